"""`cityloop import grids FILE`: add and change 单元网格; with `--replace` the file is the whole
map, and a grid it leaves out is retired (停用), which is refused while the grid holds open cases.

Streets and communities are those already imported (by `街道编码`/`社区编码`, or by name: a
live street of that name, a community of that name in its street); a name that matches none is
a new area, derived under the city's district as before (`<district>/<name>`). A retired grid
keeps its cases, gets no new ones and loses its inspectors; a later import that names it again
brings it back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from shapely.geometry import mapping, shape
from tortoise import timezone
from tortoise.transactions import in_transaction

from core.audit.service import Actor, record, record_change
from core.bulk.gridfiles import GridFeature, GridFile
from core.bulk.plan import Plan, Verdict, diff
from core.org.models import Department, DepartmentKind, Grid, GridAssignment
from core.org.service import add_department
from core.packages import holds

AREA_KINDS: Final = (DepartmentKind.DISTRICT, DepartmentKind.STREET, DepartmentKind.COMMUNITY)
NAMES: Final = {"name": "网格名称", "street": "所属街道", "community": "所属社区"}
_CODE_MAX: Final = 32  # Department.code


class _Refused(Exception):
    pass


@dataclass
class _Areas:
    """The districts, streets and communities as stored, and those this import would add."""

    stored: dict[str, Department]
    names: dict[str, str]  # code → name, stored and new
    new: dict[str, tuple[str, DepartmentKind, str]] = field(default_factory=dict)
    by_id: dict[int, str] = field(default_factory=dict)

    @classmethod
    async def load(cls) -> _Areas:
        stored = {d.code: d for d in await Department.filter(kind__in=list(AREA_KINDS))}
        names = {c: d.name for c, d in stored.items()}
        return cls(stored, names, by_id={d.id: c for c, d in stored.items()})

    def live(self, kind: DepartmentKind, name: str, parent: str | None) -> list[str]:
        """Codes of the live areas of this kind and name (under this parent, if given)."""
        found = [
            c
            for c, d in self.stored.items()
            if d.kind is kind
            and d.name == name
            and d.retired_at is None
            and (parent is None or self.by_id.get(d.parent_id or 0) == parent)
        ]
        found += [
            c
            for c, (n, k, p) in self.new.items()
            if k is kind and n == name and (parent is None or p == parent)
        ]
        return found

    def named(self, code: str, kind: DepartmentKind, label: str) -> Department:
        dep = self.stored.get(code)
        if dep is None or dep.kind is not kind:
            raise _Refused(f"{label} {code} 不存在")
        if dep.retired_at is not None:
            raise _Refused(f"{label} {code}（{dep.name}）已撤销")
        return dep

    def derive(self, name: str, kind: DepartmentKind, parent: str, said: list[Any]) -> str:
        """The code of a new area (`<parent>/<name>`), planned once for the whole file."""
        code = f"{parent}/{name}"
        if len(code) > _CODE_MAX:
            raise _Refused(f"名称过长，无法生成编码：{name}（请先导入部门并填写编码）")
        if code in self.stored:  # the derived one, retired since
            raise _Refused(f"{name} 已撤销（编码 {code}）")
        if code not in self.new:
            self.new[code] = (name, kind, parent)
            self.names[code] = name
            said.append((code, name, kind, parent))
        return code


def _place(f: GridFeature, areas: _Areas, top: str, said: list[Any]) -> tuple[str, str | None]:
    """The (street, community) codes of a feature."""
    if f.community_code:
        community = areas.named(f.community_code, DepartmentKind.COMMUNITY, "社区编码")
        street = areas.by_id.get(community.parent_id or 0, "")
        if f.street_code and f.street_code != street:
            raise _Refused(f"社区 {community.name} 不属于街道编码 {f.street_code}")
        return street, community.code
    if f.street_code:
        street = areas.named(f.street_code, DepartmentKind.STREET, "街道编码").code
    else:
        if f.street is None:  # the reader asks for a street name or code: not reached
            raise _Refused("缺少所属街道")
        found = areas.live(DepartmentKind.STREET, f.street, None)
        if len(found) > 1:
            raise _Refused(f"街道名称 {f.street} 不唯一（{'、'.join(found)}），请填写街道编码")
        street = found[0] if found else areas.derive(f.street, DepartmentKind.STREET, top, said)
    if f.community is None:
        return street, None
    found = areas.live(DepartmentKind.COMMUNITY, f.community, street)
    if found:
        return street, found[0]
    return street, areas.derive(f.community, DepartmentKind.COMMUNITY, street, said)


def _geometry(f: GridFeature) -> dict[str, Any]:
    """GeoJSON as the JSON column gives it back (lists, not tuples): comparable with stored."""
    value: dict[str, Any] = json.loads(json.dumps(mapping(f.polygon)))
    return value


def _same_shape(stored: dict[str, Any], f: GridFeature) -> bool:
    # normalize(): the same polygon written from another start vertex is the same polygon.
    return bool(shape(stored).normalize().equals_exact(f.polygon.normalize(), 1e-9))


async def plan(file: GridFile, *, top: str, replace: bool) -> Plan:
    """What importing this file would do (nothing is written). `top`: the city's district,
    under which new streets hang."""
    out = Plan("grids", unit=file.unit)
    grids = {g.code: g for g in await Grid.all()}
    areas = await _Areas.load()
    for item in file.items:
        if item.feature is None:
            out.refuse(item.number, item.key, item.problem)
            continue
        f = item.feature
        said: list[Any] = []  # the new areas this feature is the first to name
        label = f"{f.code} {f.name}"
        try:
            street, community = _place(f, areas, top, said)
        except _Refused as err:
            out.refuse(item.number, label, str(err))
            continue
        values = {
            "code": f.code,
            "name": f.name,
            "street": street,
            "community": community,
            "geometry": _geometry(f),
            "new_areas": said,
        }
        news = [
            f"新建{'街道' if k is DepartmentKind.STREET else '社区'} {n}" for _, n, k, _ in said
        ]
        grid = grids.get(f.code)
        if grid is None:
            out.add(item.number, Verdict.CREATE, label, "；".join(news), **values)
            continue
        before = {
            "name": grid.name,
            "street": areas.names.get(areas.by_id.get(grid.street_id, ""), ""),
            "community": areas.names.get(areas.by_id.get(grid.community_id or 0, ""), None),
        }
        after = {
            "name": f.name,
            "street": areas.names[street],
            "community": areas.names.get(community or ""),
        }
        text = [t for t in (diff(before, after, NAMES), *news) if t]
        if _same_shape(grid.geometry, f):
            values["geometry"] = grid.geometry  # as stored: the same shape is no change
        else:
            text.append("范围：已改")
        if grid.retired_at is not None:
            text.append("恢复启用")
        verdict = Verdict.UPDATE if text else Verdict.SAME
        out.add(item.number, verdict, label, "；".join(text), **values)
    out.lines.sort(key=lambda line: line.number)
    named = {i.key for i in file.items}  # a parsed feature's key is its code
    gone = [g for c, g in sorted(grids.items()) if c not in named and g.retired_at is None]
    await _leaving(out, gone, replace)
    return out


async def _leaving(out: Plan, gone: list[Grid], replace: bool) -> None:
    """The live grids the file leaves out: retired with --replace (unless held), else kept."""
    if replace:
        held = await holds("grid", [g.id for g in gone])
        for g in gone:
            if g.id in held:
                out.refuse(0, f"{g.code} {g.name}", "；".join(held[g.id]) + "，不能停用")
            else:
                out.add(0, Verdict.RETIRE, f"{g.code} {g.name}", "文件中没有", grid_id=g.id)
    elif gone:
        out.notes.append(
            f"库中另有 {len(gone)} 个网格不在文件中，保持不变"
            "（文件是全部网格时加 --replace 停用它们）"
        )


def grid_record(grid: Grid, codes: dict[int, str]) -> dict[str, Any]:
    """What the audit log keeps of a grid."""
    return {
        "code": grid.code,
        "name": grid.name,
        "street": codes.get(grid.street_id),
        "community": codes.get(grid.community_id or 0),
        "geometry": grid.geometry,
        "retired": grid.retired_at is not None,
    }


async def apply(file: GridFile, *, top: str, top_name: str, replace: bool, actor: Actor) -> Plan:
    """Plan again inside one transaction and write it; a refusal writes nothing."""
    async with in_transaction():
        done = await plan(file, top=top, replace=replace)
        if done.refused:
            return done
        ids = await _areas(done, top_name, actor)
        codes = {i: c for c, i in ids.items()}
        for line in done.writes():
            if line.verdict is Verdict.RETIRE:
                await _retire(line.values["grid_id"], actor)
            else:
                await _write(line.values, ids, codes, actor)
    return done


async def _areas(done: Plan, top_name: str, actor: Actor) -> dict[str, int]:
    """Create the city's district (if a new street needs it) and the new streets and
    communities, in the order the plan met them; return code → id of every area."""
    ids = dict(await Department.filter(kind__in=list(AREA_KINDS)).values_list("code", "id"))
    for line in done.writes():
        for code, name, kind, parent in line.values.get("new_areas", ()):
            if parent not in ids:  # only the district: a community's street comes first
                ids[parent] = await _create(parent, top_name, DepartmentKind.DISTRICT, None, actor)
            ids[code] = await _create(code, name, kind, ids[parent], actor)
    return ids


async def _create(
    code: str, name: str, kind: DepartmentKind, parent_id: int | None, actor: Actor
) -> int:
    dep = await add_department(actor=actor, code=code, name=name, kind=kind, parent_id=parent_id)
    return dep.id


async def _write(
    values: dict[str, Any], ids: dict[str, int], codes: dict[int, str], actor: Actor
) -> None:
    fields = {
        "name": values["name"],
        "street_id": ids[values["street"]],
        "community_id": ids[values["community"]] if values["community"] else None,
        "geometry": values["geometry"],
        "retired_at": None,
    }
    grid = await Grid.get_or_none(code=values["code"])
    if grid is None:
        grid = await Grid.create(code=values["code"], **fields)
        await record(
            actor=actor,
            action="grid.create",
            target="grid",
            target_id=grid.id,
            after=grid_record(grid, codes),
        )
        return
    before = grid_record(grid, codes)
    for key, value in fields.items():
        setattr(grid, key, value)
    await grid.save()
    await record_change(
        actor=actor,
        action="grid.update",
        target="grid",
        target_id=grid.id,
        before=before,
        after=grid_record(grid, codes),
    )


async def _retire(grid_id: int, actor: Actor) -> None:
    grid = await Grid.get(id=grid_id)
    walkers = GridAssignment.filter(grid_id=grid_id).order_by("staff__username")
    names = await walkers.values_list("staff__username", flat=True)
    await GridAssignment.filter(grid_id=grid_id).delete()
    grid.retired_at = timezone.now()
    await grid.save(update_fields=["retired_at", "updated_at"])
    await record(
        actor=actor,
        action="grid.retire",
        target="grid",
        target_id=grid.id,
        before={"retired": False, "inspectors": list(names)},
        after={"retired": True, "inspectors": []},
    )
