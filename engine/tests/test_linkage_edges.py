"""Linkage on inputs too small or too far from the registry for Splink's estimates: no pair agrees exactly on name,
birth date and village (Splink's prior would be 0 and its first EM pass finds no pair), or every row does (more
exact pairs than the assumed recall allows). Either used to stop the whole import with an exception."""

from datetime import date

from engine.linkage import link_tables, person_table

MEMBERS = person_table(
    [
        (1, "张三", date(1980, 1, 1), "male", "520526100200", None),
        (2, "李四", date(1980, 1, 3), "male", "520526100201", None),
        (3, "王五", date(1980, 1, 5), "female", "520526100202", None),
    ]
)


def test_rows_that_agree_with_no_member_link_to_nobody():
    rows = person_table([(10, "赵六", date(1990, 5, 5), "male", "520526100200", None)])
    assert [c for c in link_tables(rows, MEMBERS) if c.probability >= 0.5] == []


def test_a_single_row_matching_its_single_member_is_found():
    one = person_table([(1, "张三", date(1980, 1, 1), "male", "520526100200", None)])
    rows = person_table([(10, "张三", date(1980, 1, 1), "male", "520526100200", None)])
    (best,) = link_tables(rows, one)
    assert (best.row_id, best.member_id) == (10, 1)
