"""``occupancy building import``: a floor plan in, a building file out."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from occupancy.plans.model import Plan, PlanError

logger = logging.getLogger(__name__)

__all__ = ["building_import"]

_FORMATS = {".dxf": "dxf", ".ifc": "ifc", ".geojson": "geojson", ".json": "geojson"}


def read_plan(files: list[Path], fmt: str | None, layers: str | None) -> Plan:
    """Dispatch on the format (from the option or the first file's suffix)."""
    kind = fmt or _FORMATS.get(files[0].suffix.lower())
    if kind is None and files[0].is_dir():
        kind = "geojson"  # an IMDF archive unpacked into a folder
    if kind is None and files[0].suffix.lower() == ".zip":
        kind = "geojson"
    if kind == "dxf":
        from occupancy.plans.dxf import parse_layer_map, read_dxf

        return read_dxf(files, parse_layer_map(layers), progress=_progress)
    if layers:
        raise PlanError("--layers is for DXF drawings only")
    if kind == "ifc":
        from occupancy.plans.ifc import read_ifc

        if len(files) > 1:
            raise PlanError("an IFC model holds all its storeys: give one file")
        return read_ifc(files[0], progress=_progress)
    if kind == "geojson":
        from occupancy.plans.geojson import read_geojson

        return read_geojson(files, progress=_progress)
    raise PlanError(
        f"{files[0]}: unknown format (give --format dxf|ifc|geojson, or a file "
        "ending in .dxf, .ifc, .geojson, .json or an IMDF .zip/folder)"
    )


def _progress(message: str) -> None:
    click.echo(message, err=True)


@click.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The building file to write (YAML).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["dxf", "ifc", "geojson"]),
    help="Input format [from the file name].",
)
@click.option(
    "--layers",
    metavar="MAP",
    help="DXF: which layers hold what, e.g. 'rooms=A-AREA|A-SPCE,desks=I-FURN,"
    "zones=A-ZONE' (shell patterns; defaults cover AIA and NLCS names).",
)
@click.option("--site-id", default="site", show_default=True, help="Site id to write.")
@click.option(
    "--building-id", default="b1", show_default=True, help="Building id to write."
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def building_import(
    files: tuple[Path, ...],
    out: Path,
    fmt: str | None,
    layers: str | None,
    site_id: str,
    building_id: str,
    force: bool,
) -> None:
    """Turn floor plans into a building file to complete and load.

    \b
    FILES: DXF drawings (one floor per file, or per paper-space layout),
    one IFC model (IfcBuildingStorey → floors, IfcSpace → rooms and zones,
    furniture → desks), or GeoJSON / IMDF (levels → floors, units → rooms
    and zones; fixtures and openings are ignored).
    \b
    Examples:
      occupancy building import ground.dxf first.dxf --out office.yaml
      occupancy building import model.ifc --out office.yaml
      occupancy building import venue-imdf.zip --out office.yaml
    What could not be classified is listed at the end of the file. Then add
    departments and devices, and run `occupancy building load office.yaml`.
    """
    from occupancy.building import BuildingError, parse_building
    from occupancy.plans.layout import plan_to_building
    from occupancy.plans.writer import building_yaml

    if out.exists() and not force:
        raise click.ClickException(f"{out} exists (use --force to overwrite)")
    try:
        plan = read_plan(list(files), fmt, layers)
        doc, summary = plan_to_building(plan, site_id=site_id, building_id=building_id)
        parse_building(doc, str(out))  # what we write must load
    except (PlanError, BuildingError) as exc:
        raise click.ClickException(str(exc)) from exc
    out.write_text(building_yaml(doc, summary, plan.source, plan.notes), "utf-8")
    for line in summary.unclassified:
        click.echo(f"not imported: {line}", err=True)
    click.echo(f"wrote {out}: {summary}")
