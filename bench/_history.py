"""Years of case history for bench/queries.py, written by PostgreSQL itself (generate_series).

Proportions as a district's four years look: 97 % of cases closed, rejected or cancelled; the
open ones mostly recent (the last 2 % of the span), a few old ones 挂账 or overdue; 1.1 reports
and about 6.8 timeline rows per case; open 核实/核查 tasks for the inspectors' grids. Text is
drawn from street-problem phrases, so two-character words are as common as they are in a real
list (垃圾 in about one row of six, 井盖 in one of ten).
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from types import SimpleNamespace
from typing import Any

import asyncpg

SPAN = dt.timedelta(days=4 * 365)
PLACES = ("路边", "小区门口", "人行道上", "公交站旁", "学校附近", "菜市场边", "桥下", "河道边")
PROBLEMS = (
    "垃圾满溢", "井盖缺失", "路灯不亮", "占道经营", "乱堆物料", "机动车乱停放", "道路破损",
    "绿化带损坏", "路面积水", "噪音扰民", "广告牌破损", "共享单车乱停", "污水外溢", "树木倒伏",
    "垃圾桶破损", "油烟扰民", "暴露垃圾", "施工扬尘", "违规张贴小广告", "窨井盖松动",
)  # fmt: skip
TAILS = ("，请尽快处理", "，已有多日", "，影响通行", "，居民反映强烈", "", "，很危险")
ROADS = (
    "延安路",
    "解放路",
    "中山路",
    "湖滨路",
    "庆春路",
    "体育场路",
    "凤起路",
    "平海路",
    "西湖大道",
)
SOURCES = (
    "grid_app",
    "grid_app",
    "grid_app",
    "wechat_oa",
    "wechat_mp",
    "hotline",
    "hotline",
    "web",
)
OPEN = ("reported", "verifying", "registered", "dispatched", "dispatched", "dispatched",
        "dispatched", "handled", "checked", "suspended")  # fmt: skip


def _array(values: tuple[str, ...] | list[Any]) -> str:
    return (
        "ARRAY["
        + ",".join(
            repr(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'" for v in values
        )
        + "]"
    )


async def _refs(conn: asyncpg.Connection) -> dict[str, Any]:
    grids = await conn.fetch("SELECT id, street_id FROM grid ORDER BY id")
    deps = await conn.fetch("SELECT id FROM department WHERE kind = 'department' ORDER BY id")
    from cases.catalog import load_catalog

    catalog = [c for c in load_catalog("gbt47678") if c.code.startswith("E")][:60]
    return {
        "grids": [g["id"] for g in grids],
        "streets": [g["street_id"] for g in grids],
        "deps": [d["id"] for d in deps],
        "codes": [c.code for c in catalog],
        "names": [c.name for c in catalog],
    }


def _case_sql(n: int, now: dt.datetime, refs: dict[str, Any]) -> str:
    """One INSERT … SELECT for n cases: ids 1..n in time order, ending an hour ago."""
    span_s = SPAN.total_seconds()
    start = now - SPAN - dt.timedelta(hours=1)
    recent = int(n * 0.98)
    return f"""
    INSERT INTO "case" (id, number, source, status, version, category_code, category_name,
        urgency, description, address, lon, lat, grid_id, street_id, department_id,
        stage, stage_unit, stage_limit_s, stage_used_s, stage_started_at, deadline_at, warn_at,
        overdue, urge_count, reopen_count, report_count, created_at, updated_at,
        registered_at, dispatched_at, handled_at, closed_at)
    SELECT i, to_char(t, 'YYYYMMDD') || lpad(i::text, 8, '0'), src, st, 3, code, name,
        'B', descr, addr, 120.16 + (h % 1000) / 40000.0, 30.25 + (h % 997) / 40000.0,
        g, s, d,
        CASE WHEN open THEN 'handle' END, CASE WHEN open THEN 'work_day' END,
        CASE WHEN open THEN 86400 END, 0, CASE WHEN running THEN t END,
        CASE WHEN running THEN t + interval '3 days' END,
        CASE WHEN running THEN t + interval '2 days 9 hours' END,
        running AND t + interval '3 days' < now(), (h % 50 = 0)::int, 0, 1 + (h % 10 = 0)::int,
        t, t, t + interval '20 minutes', t + interval '1 hour',
        CASE WHEN st IN ('handled', 'checked', 'closed') THEN t + interval '1 day' END,
        CASE WHEN st IN ('closed', 'rejected', 'cancelled') THEN t + interval '2 days' END
    FROM (
      SELECT i, t, h, src, code, name, g, s, d, descr, addr, st,
             st NOT IN ('closed', 'rejected', 'cancelled') AS open,
             st NOT IN ('closed', 'rejected', 'cancelled', 'suspended') AS running
      FROM (
        SELECT i, t, h,
          ({_array(SOURCES)})[1 + h % {len(SOURCES)}] AS src,
          ({_array(refs["codes"])})[1 + (h / 7) % {len(refs["codes"])}] AS code,
          ({_array(refs["names"])})[1 + (h / 7) % {len(refs["names"])}] AS name,
          ({_array(refs["grids"])})[1 + (h / 3) % {len(refs["grids"])}] AS g,
          ({_array(refs["streets"])})[1 + (h / 3) % {len(refs["grids"])}] AS s,
          ({_array(refs["deps"])})[1 + (h / 11) % {len(refs["deps"])}] AS d,
          ({_array(PLACES)})[1 + (h / 13) % {len(PLACES)}]
            || ({_array(PROBLEMS)})[1 + (h / 17) % {len(PROBLEMS)}]
            || ({_array(TAILS)})[1 + (h / 19) % {len(TAILS)}] AS descr,
          ({_array(ROADS)})[1 + (h / 23) % {len(ROADS)}] || (1 + h % 300) || '号' AS addr,
          CASE
            WHEN i > {recent} AND h % 10 < 7 THEN ({_array(OPEN)})[1 + (h / 29) % {len(OPEN)}]
            WHEN i <= {recent} AND h % 1000 = 0 THEN 'suspended'
            WHEN i <= {recent} AND h % 1000 = 1 THEN 'dispatched'
            WHEN h % 100 < 3 THEN 'rejected'
            WHEN h % 100 = 3 THEN 'cancelled'
            ELSE 'closed'
          END AS st
        FROM (
          SELECT i,
                 timestamptz '{start.isoformat()}' + (i * {span_s / n}) * interval '1 second' AS t,
                 (i * 2654435761) % 4294967296 AS h
          FROM generate_series(1, {n}) AS i
        ) AS base
      ) AS drawn
    ) AS cases
    """  # noqa: S608  (the bench's own constants)


REPORTS_SQL = """
INSERT INTO case_report (case_id, source, idempotency_key, description, address, lon, lat, crs,
    duplicate, extras, created_at, no_callback)
SELECT c.id, c.source, 'seed-' || c.id || '-' || k, c.description, c.address, c.lon, c.lat,
    'wgs84', k > 1, '{}', c.created_at + (k - 1) * interval '2 hours', false
FROM "case" c, generate_series(1, c.report_count) AS k
"""
# Closed cases walk 7 steps, open ones 3: about 6.8 rows per case over the whole table.
EVENTS_SQL = """
INSERT INTO case_event (case_id, action, from_status, to_status, actor_kind, note, data,
    created_at, actor_id)
SELECT c.id, (ARRAY['report','accept','register','dispatch','receive','handle','close'])[k],
    NULL, c.status, 'staff', '', '{}', c.created_at + k * interval '10 minutes', NULL
FROM "case" c,
     generate_series(1, CASE WHEN c.status IN ('closed','rejected','cancelled') THEN 7 ELSE 3 END)
       AS k
"""
TASKS_SQL = """
INSERT INTO inspector_task (case_id, grid_id, inspector_id, kind, status, deadline_at, note,
    created_at)
SELECT c.id, c.grid_id, a.staff_id, CASE WHEN c.status = 'verifying' THEN 'verify' ELSE 'check' END,
    'open', c.created_at + interval '4 hours', '', c.created_at
FROM "case" c JOIN grid_assignment a ON a.grid_id = c.grid_id
WHERE c.status IN ('verifying', 'handled')
"""


def _migration() -> Any:
    return importlib.import_module("migrations.cases.0005_list_indexes")


async def drop_list_indexes() -> None:
    """Drop the indexes of migration cases/0005 (seeding goes faster without them)."""
    from tortoise.connection import get_connection

    await _migration().drop_indexes(None, SimpleNamespace(client=get_connection("default")))


async def build_list_indexes() -> float:
    """Build them again with the migration's own code; return the seconds it took."""
    from tortoise.connection import get_connection

    t0 = time.perf_counter()
    await _migration().add_indexes(None, SimpleNamespace(client=get_connection("default")))
    return time.perf_counter() - t0


async def seed(dsn: str, n: int, say: Any) -> dict[str, float]:
    """Write n cases with their reports, timeline and tasks; return seconds per step."""
    conn = await asyncpg.connect(dsn)
    took: dict[str, float] = {}
    try:
        await conn.execute("SET session_replication_role = replica")  # no FK triggers
        refs = await _refs(conn)
        now = dt.datetime.now(dt.UTC)
        for step, sql in (
            ("cases", _case_sql(n, now, refs)),
            ("reports", REPORTS_SQL),
            ("timeline", EVENTS_SQL),
            ("tasks", TASKS_SQL),
        ):
            t0 = time.perf_counter()
            await conn.execute(sql)
            took[step] = time.perf_counter() - t0
            say(f"seeded {step} in {took[step]:.1f} s")
        for table, column in (("case", "id"), ("case_report", "id"), ("case_event", "id")):
            top = f'(SELECT max({column}) FROM "{table}")'  # noqa: S608  (the bench's own names)
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), {top})")
        await conn.execute('VACUUM ANALYZE "case"')
        await conn.execute("VACUUM ANALYZE case_event")
        await conn.execute("VACUUM ANALYZE case_report")
        await conn.execute("VACUUM ANALYZE inspector_task")
    finally:
        await conn.close()
    return took
