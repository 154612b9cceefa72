from ._importing import ImportCommand


class Command(ImportCommand):
    help = "Import yearly household income and conditions (INTERCHANGE §2): xlsx/xls/csv."
    kind = "income"
