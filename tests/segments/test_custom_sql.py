"""Custom SQL templates: one read-only SELECT, parameters bound safely, any dialect."""

from __future__ import annotations

from datetime import datetime

import pytest

from segmint.segments.custom_sql import CustomSqlError, CustomSqlTemplate, SqlParameter

from .conftest import AS_OF, Store

BIG = "SELECT profile_id FROM profiles WHERE total_spend >= :min_spend"


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DROP TABLE profiles", "only a read-only SELECT is allowed; this is a DROP statement"),
        ("DELETE FROM profiles", "this is a DELETE statement"),
        ("INSERT INTO profiles (profile_id) VALUES ('x')", "this is a INSERT statement"),
        ("CREATE TABLE x AS SELECT profile_id FROM profiles", "this is a CREATE statement"),
        ("SELECT profile_id FROM profiles; DROP TABLE profiles", "this SQL has 2"),
        ("COPY profiles TO 'out.csv'", "this is a COPY statement"),
        ("ATTACH 'other.db'", "only a read-only SELECT is allowed"),
        ("PRAGMA version", "only a read-only SELECT is allowed"),
        ("SELECT profile_id INTO t FROM profiles", "found SELECT ... INTO"),
        ("SELECT * FROM read_csv('/etc/passwd')", "only a read-only SELECT|not allowed"),
        ("SELECT profile_id FROM 'secrets.csv'", "unknown table 'secrets.csv'"),
        ("SELECT profile_id FROM read_parquet('x.parquet')", "not allowed"),
        (
            "SELECT read_text('/etc/passwd') AS profile_id",
            "function read_text\\(\\) is not allowed",
        ),
        ("SELECT getenv('HOME') AS profile_id", "function getenv\\(\\) is not allowed"),
        ("SELECT profile_id FROM query('SELECT 1')", "not allowed"),
        ("SELECT profile_id FROM profils", "unknown table 'profils'; did you mean 'profiles'"),
        ("SELECT profile_id FROM other.profiles", "schema-qualified tables are not allowed"),
        ("SELECT * FROM profiles", "exactly one column named profile_id"),
        ("SELECT profile_id, email FROM profiles", "returns: profile_id, email"),
        ("SELECT customer_id FROM customers", "returns: customer_id"),
        ("SELECT profile_id FROM profiles WHERE total_spend > ?", "named parameters"),
        ("SELEC profile_id FROM", "does not parse as duckdb"),
    ],
)
def test_rejected(sql: str, message: str) -> None:
    with pytest.raises(CustomSqlError, match=message):
        CustomSqlTemplate("t", sql)


def test_parameters_must_be_declared_and_used() -> None:
    with pytest.raises(CustomSqlError, match="undeclared parameters: :min_spend"):
        CustomSqlTemplate("t", BIG)
    with pytest.raises(CustomSqlError, match="never uses: extra"):
        CustomSqlTemplate(
            "t",
            BIG,
            parameters=[SqlParameter("min_spend", "number"), SqlParameter("extra", "text")],
        )
    with pytest.raises(CustomSqlError, match="'as_of' is reserved"):
        SqlParameter.parse("as_of:timestamp")
    with pytest.raises(CustomSqlError, match="type 'money' is not one of"):
        SqlParameter.parse("min:money")
    assert SqlParameter.parse("min_spend:number=100") == SqlParameter("min_spend", "number", 100.0)
    assert SqlParameter.parse("codes:text_list=a, b").default == ["a", "b"]


def test_values_are_bound_as_literals_never_spliced() -> None:
    template = CustomSqlTemplate(
        "t",
        "SELECT profile_id FROM profiles WHERE email = :email AND gender IN (:genders)",
        parameters=[SqlParameter("email", "text"), SqlParameter("genders", "text_list")],
    )
    evil = "x' OR '1'='1"
    sql = template.bind({"email": evil, "genders": ["f", "m"]}, as_of=AS_OF).sql("duckdb")
    assert sql == (
        "SELECT profile_id FROM profiles WHERE email = 'x'' OR ''1''=''1' AND gender IN ('f', 'm')"
    )
    assert template.check_params({"email": 3, "genders": []}) == [
        "parameter 'email': 3 is not text",
        "parameter 'genders': [] is not a non-empty list of text",
    ]
    assert template.check_params({"mail": "a"}) == [
        "unknown parameter 'mail'; 't' takes email, genders",
        "parameter 'email' (text) needs a value",
        "parameter 'genders' (text_list) needs a value",
    ]


def test_other_dialects_are_transpiled() -> None:
    # Snowflake's IFF and Postgres' :: casts come out as DuckDB.
    snow = CustomSqlTemplate(
        "t",
        "SELECT profile_id FROM profiles WHERE IFF(total_spend > :x, TRUE, FALSE)",
        dialect="snowflake",
        parameters=[SqlParameter("x", "number")],
    )
    assert snow.bind({"x": 5}, as_of=AS_OF).sql("duckdb") == (
        "SELECT profile_id FROM profiles WHERE CASE WHEN total_spend > 5 THEN TRUE ELSE FALSE END"
    )
    pg = CustomSqlTemplate(
        "t",
        "SELECT profile_id FROM profiles WHERE last_order_at < :as_of::timestamp - "
        "interval '30 days'",
        dialect="postgres",
    )
    assert "CAST('2026-11-22 12:00:00' AS TIMESTAMP)" in pg.bind({}, as_of=AS_OF).sql("duckdb")
    bq = CustomSqlTemplate(
        "t",
        "SELECT profile_id FROM profiles WHERE total_spend > @x",
        dialect="bigquery",
        parameters=[SqlParameter("x", "number")],
    )
    assert bq.bind({"x": 1}, as_of=AS_OF).sql("duckdb") == (
        "SELECT profile_id FROM profiles WHERE total_spend > 1"
    )


def test_used_in_a_segment_with_table_names_of_past_profiles(store: Store) -> None:
    store.profile("a", total_spend=500)
    store.profile("b", total_spend=50)
    store.profile("c", total_spend=900, accepts_marketing=False)
    store.service.create_sql_template(
        "big-spenders",
        BIG + " AND last_order_at IS NULL",
        parameters=["min_spend:number=100"],
        description="Spent at least min_spend",
    )
    segment = {"name": "s", "include": {"type": "sql_template", "template": "big-spenders"}}
    assert store.members(segment) == {"a"}  # c opted out
    segment["include"]["params"] = {"min_spend": 10}
    assert store.members(segment) == {"a", "b"}
    # The query reads the profiles of the evaluation time, not the current table.
    assert f"FROM {store.profiles_table} AS profiles" in store.service.sql(segment, as_of=AS_OF)
    segment["include"]["params"] = {"min_spend": "ten"}
    with pytest.raises(Exception, match="parameter 'min_spend': 'ten' is not a number"):
        store.service.validate(segment)


def test_stored_versioned_and_protected(store: Store) -> None:
    store.profile("a", total_spend=500)
    store.service.create_sql_template("big", BIG, parameters=["min_spend:number=100"])
    with pytest.raises(CustomSqlError, match="already exists"):
        store.service.create_sql_template("big", BIG, parameters=["min_spend:number=100"])
    second = store.service.create_sql_template(
        "big", BIG, parameters=["min_spend:number=200"], replace=True
    )
    assert second.version == 2
    loaded = store.service.get_sql_template("big")
    assert loaded is not None and loaded.parameters[0].default == 200.0
    store.service.create({"name": "s", "include": {"type": "sql_template", "template": "big"}})
    with pytest.raises(Exception, match="SQL template 'big' is used by s"):
        store.service.delete_sql_template("big")
    store.service.delete("s")
    store.service.delete_sql_template("big")
    assert store.service.list_sql_templates() == []


def test_as_of_parameter_is_the_evaluation_time() -> None:
    template = CustomSqlTemplate("t", "SELECT profile_id FROM orders WHERE ordered_at <= :as_of")
    sql = template.bind({}, as_of=datetime(2026, 1, 2, 3, 4, 5)).sql("duckdb")
    assert sql.endswith("ordered_at <= CAST('2026-01-02 03:04:05' AS TIMESTAMP)")
