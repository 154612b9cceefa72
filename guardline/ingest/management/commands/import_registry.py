from ._importing import ImportCommand


class Command(ImportCommand):
    help = "Import a registry file (INTERCHANGE §1, one row per member): xlsx/xls/csv, Chinese or canonical headers."
    kind = "registry"
