"""Lite fixtures of the tabular competitions, and ``LAYOUTS`` for all 13 non-image lite competitions.

Each ``build_*`` draws tiny data and hands it to its ``write_*``, the layout writer that the learnable data in
``learnable/`` shares."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import audio, text
from .files import Cell, jpeg_bytes, write, write_csv
from .model import LiteLayout

Row = Sequence[Cell]


def _dirs(folder: Path) -> tuple[Path, Path]:
    public, private = folder / "prepared" / "public", folder / "prepared" / "private"
    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    return public, private


def _floats(rng: np.random.Generator, count: int, low: float, high: float, digits: int) -> list[float]:
    return [round(float(v), digits) for v in rng.uniform(low, high, count)]


# --- leaf-classification -------------------------------------------------------------------------------------------
# The species (Kaggle's sample-submission columns, in their order) are the competition's data, spelt here.

LEAF_SPECIES = tuple(
    (  # noqa: SIM905 - 99 names, spelt compactly
        "Acer_Capillipes Acer_Circinatum Acer_Mono Acer_Opalus Acer_Palmatum Acer_Pictum Acer_Platanoids Acer_Rubrum "
        "Acer_Rufinerve Acer_Saccharinum Alnus_Cordata Alnus_Maximowiczii Alnus_Rubra Alnus_Sieboldiana Alnus_Viridis "
        "Arundinaria_Simonii Betula_Austrosinensis Betula_Pendula Callicarpa_Bodinieri Castanea_Sativa "
        "Celtis_Koraiensis Cercis_Siliquastrum Cornus_Chinensis Cornus_Controversa Cornus_Macrophylla "
        "Cotinus_Coggygria Crataegus_Monogyna Cytisus_Battandieri Eucalyptus_Glaucescens Eucalyptus_Neglecta "
        "Eucalyptus_Urnigera Fagus_Sylvatica Ginkgo_Biloba Ilex_Aquifolium Ilex_Cornuta Liquidambar_Styraciflua "
        "Liriodendron_Tulipifera Lithocarpus_Cleistocarpus Lithocarpus_Edulis Magnolia_Heptapeta Magnolia_Salicifolia "
        "Morus_Nigra Olea_Europaea Phildelphus Populus_Adenopoda Populus_Grandidentata Populus_Nigra Prunus_Avium "
        "Prunus_X_Shmittii Pterocarya_Stenoptera Quercus_Afares Quercus_Agrifolia Quercus_Alnifolia Quercus_Brantii "
        "Quercus_Canariensis Quercus_Castaneifolia Quercus_Cerris Quercus_Chrysolepis Quercus_Coccifera "
        "Quercus_Coccinea Quercus_Crassifolia Quercus_Crassipes Quercus_Dolicholepis Quercus_Ellipsoidalis "
        "Quercus_Greggii Quercus_Hartwissiana Quercus_Ilex Quercus_Imbricaria Quercus_Infectoria_sub Quercus_Kewensis "
        "Quercus_Nigra Quercus_Palustris Quercus_Phellos Quercus_Phillyraeoides Quercus_Pontica Quercus_Pubescens "
        "Quercus_Pyrenaica Quercus_Rhysophylla Quercus_Rubra Quercus_Semecarpifolia Quercus_Shumardii Quercus_Suber "
        "Quercus_Texana Quercus_Trojana Quercus_Variabilis Quercus_Vulcanica Quercus_x_Hispanica Quercus_x_Turneri "
        "Rhododendron_x_Russellianum Salix_Fragilis Salix_Intergra Sorbus_Aria Tilia_Oliveri Tilia_Platyphyllos "
        "Tilia_Tomentosa Ulmus_Bergmanniana Viburnum_Tinus Viburnum_x_Rhytidophylloides Zelkova_Serrata"
    ).split()
)
LEAF_FEATURES = tuple(f"{kind}{i}" for kind in ("margin", "shape", "texture") for i in range(1, 65))


def _leaf_image(rng: np.random.Generator) -> list[list[int]]:
    """A white leaf-like ellipse on black, as the binary greyscale silhouettes of the original images."""
    height, width = int(rng.integers(10, 18)), int(rng.integers(10, 18))
    ys, xs = np.mgrid[0:height, 0:width]
    inside = ((ys - height / 2) / (height / 2.2)) ** 2 + ((xs - width / 2) / (width / 3)) ** 2 <= 1
    return [[255 if v else 0 for v in row] for row in inside]


def write_leaf(folder: Path, train: Sequence[Row], test: Sequence[Row], images: Sequence[bytes]) -> None:
    """Rows ``[id, species, *LEAF_FEATURES]``; ``images`` one JPEG per row, the train rows' then the test rows'."""
    public, private = _dirs(folder)
    write_csv(public / "train.csv", ["id", "species", *LEAF_FEATURES], train)
    write_csv(public / "test.csv", ["id", *LEAF_FEATURES], [[r[0], *r[2:]] for r in test])
    header = ["id", *LEAF_SPECIES]
    write_csv(private / "test.csv", header, [[r[0], *[int(r[1] == s) for s in LEAF_SPECIES]] for r in test])
    write_csv(public / "sample_submission.csv", header, [[r[0], *[1 / len(LEAF_SPECIES)] * 99] for r in test])
    (private / "images").mkdir(exist_ok=True)  # prepare.py makes it and leaves it empty
    for r, image in zip([*train, *test], images, strict=True):
        write(public / "images" / f"{r[0]}.jpg", image)


def build_leaf(folder: Path) -> None:
    rng = np.random.default_rng(301)
    ids = [int(i) for i in rng.choice(np.arange(1, 1585), 40, replace=False)]
    species = [LEAF_SPECIES[int(s)] for s in rng.integers(0, len(LEAF_SPECIES), 40)]
    rows = []
    for ident, kind in zip(ids, species):
        margin = _floats(rng, 64, 0, 0.1, 6)
        shape = _floats(rng, 64, 0.0002, 0.002, 8)
        texture = _floats(rng, 64, 0, 0.2, 6)
        rows.append([ident, kind, *margin, *shape, *texture])
    write_leaf(folder, rows[:30], rows[30:], [jpeg_bytes(_leaf_image(rng)) for _ in rows])


# --- new-york-city-taxi-fare-prediction ----------------------------------------------------------------------------
# The train split is written as public/labels.csv; Kaggle's GCP coupon note is copied along.

TAXI_COLUMNS = (
    "key",
    "fare_amount",
    "pickup_datetime",
    "pickup_longitude",
    "pickup_latitude",
    "dropoff_longitude",
    "dropoff_latitude",
    "passenger_count",
)
TAXI_RTF = (
    "{\\rtf1\\ansi\\ansicpg1252\\cocoartf1504\n{\\fonttbl\\f0\\fswiss\\fcharset0 Helvetica;}\n"
    "\\pard\\f0\\fs24 \\cf0 Google Cloud Platform coupon instructions.\\\n}"
)


def write_taxi(folder: Path, train: Sequence[Row], test: Sequence[Row]) -> None:
    """Rows in ``TAXI_COLUMNS`` order."""
    public, private = _dirs(folder)
    write_csv(public / "labels.csv", TAXI_COLUMNS, train)
    write_csv(public / "test.csv", [c for c in TAXI_COLUMNS if c != "fare_amount"], [[r[0], *r[2:]] for r in test])
    write_csv(public / "sample_submission.csv", ["key", "fare_amount"], [[r[0], 11.35] for r in test])
    write_csv(private / "test.csv", TAXI_COLUMNS, test)
    write(public / "GCP-Coupons-Instructions.rtf", TAXI_RTF)


def build_taxi(folder: Path) -> None:
    rng = np.random.default_rng(302)
    rows: list[list[Cell]] = []
    for k in range(40):
        day, second = int(rng.integers(0, 2200)), int(rng.integers(0, 86400))
        stamp = np.datetime64("2009-01-01T00:00:00") + np.timedelta64(day * 86400 + second, "s")
        when = str(stamp).replace("T", " ")
        x0, y0 = round(float(rng.uniform(-74.02, -73.93)), 6), round(float(rng.uniform(40.70, 40.80)), 6)
        x1, y1 = round(x0 + float(rng.uniform(-0.03, 0.03)), 6), round(y0 + float(rng.uniform(-0.03, 0.03)), 6)
        fare = round(2.5 + 0.5 * int(rng.integers(1, 60)), 2)
        rows.append([f"{when}.{k % 9 + 1:07d}", fare, f"{when} UTC", x0, y0, x1, y1, int(rng.integers(1, 7))])
    write_taxi(folder, rows[:30], rows[30:])


# --- nomad2018-predict-transparent-conductors ----------------------------------------------------------------------
# Train and test ids both run 1, 2, ... after the split; each id has its geometry.xyz under public/{train,test}/<id>/.

NOMAD_COLUMNS = (
    "id",
    "spacegroup",
    "number_of_total_atoms",
    "percent_atom_al",
    "percent_atom_ga",
    "percent_atom_in",
    "lattice_vector_1_ang",
    "lattice_vector_2_ang",
    "lattice_vector_3_ang",
    "lattice_angle_alpha_degree",
    "lattice_angle_beta_degree",
    "lattice_angle_gamma_degree",
    "formation_energy_ev_natom",
    "bandgap_energy_ev",
)
NOMAD_TARGETS = ("formation_energy_ev_natom", "bandgap_energy_ev")


def _nomad_row(rng: np.random.Generator, ident: int) -> list[Cell]:
    atoms = float(10 * int(rng.integers(1, 5)))
    al = int(rng.integers(0, 9))
    ga = int(rng.integers(0, 9 - al))
    lattice = _floats(rng, 3, 3.0, 25.0, 4)
    angles = [round(90 + float(v), 4) for v in rng.uniform(-0.01, 0.01, 3)]
    if ident % 5 == 0:
        angles[2] = round(120 + float(rng.uniform(-0.01, 0.01)), 4)
    energies = [round(float(rng.uniform(0.0, 0.4)), 4), round(float(rng.uniform(0.5, 5.0)), 4)]
    spacegroup = int(rng.choice([12, 33, 167, 194, 206, 227]))
    return [ident, spacegroup, atoms, al / 8, ga / 8, (8 - al - ga) / 8, *lattice, *angles, *energies]


def geometry_xyz(lattice: Sequence[float], atoms: Sequence[tuple[Sequence[float], str]]) -> str:
    """A geometry.xyz as ASE writes it: orthogonal lattice vectors of the given lengths, then each atom's position."""
    lines = ["#=======================================================", "#Created using the Atomic Simulation "
             "Environment (ASE)", "#======================================================="]  # fmt: skip
    for axis in range(3):
        vector = [0.0, 0.0, 0.0]
        vector[axis] = float(lattice[axis])
        lines.append("lattice_vector " + " ".join(f"{v:.16f}" for v in vector) + " ")
    lines.extend("atom " + " ".join(f"{v:.16f}" for v in position) + f" {element}" for position, element in atoms)
    return "\n".join(lines) + "\n"


def _geometry(rng: np.random.Generator, row: Row) -> str:
    atoms = int(row[2])  # type: ignore[arg-type]
    metals = int(atoms * 2 / 5)
    placed = [(rng.uniform(0, 10, 3), ("Al", "Ga", "In")[k % 3] if k < metals else "O") for k in range(atoms)]
    return geometry_xyz([float(v) for v in row[6:9]], placed)  # type: ignore[arg-type]


def write_nomad(folder: Path, train: Sequence[Row], test: Sequence[Row], geometries: Sequence[str]) -> None:
    """Rows in ``NOMAD_COLUMNS`` order; ``geometries`` one geometry.xyz per row, the train rows' then the test rows'."""
    public, private = _dirs(folder)
    write_csv(public / "train.csv", NOMAD_COLUMNS, train)
    write_csv(private / "test.csv", NOMAD_COLUMNS, test)
    write_csv(public / "test.csv", NOMAD_COLUMNS[:-2], [r[:-2] for r in test])
    splits = [("train", row) for row in train] + [("test", row) for row in test]
    for (split, row), geometry in zip(splits, geometries, strict=True):
        write(public / split / str(row[0]) / "geometry.xyz", geometry)
    write_csv(public / "sample_submission.csv", ["id", *NOMAD_TARGETS], [[r[0], 0.1779, 1.8892] for r in test])


def build_nomad(folder: Path) -> None:
    rng = np.random.default_rng(303)
    train = [_nomad_row(rng, i) for i in range(1, 21)]
    test = [_nomad_row(rng, i) for i in range(1, 9)]
    write_nomad(folder, train, test, [_geometry(rng, row) for row in [*train, *test]])


# --- tabular-playground-series-dec-2021 ----------------------------------------------------------------------------

DEC_COLUMNS = (
    "Id",
    "Elevation",
    "Aspect",
    "Slope",
    "Horizontal_Distance_To_Hydrology",
    "Vertical_Distance_To_Hydrology",
    "Horizontal_Distance_To_Roadways",
    "Hillshade_9am",
    "Hillshade_Noon",
    "Hillshade_3pm",
    "Horizontal_Distance_To_Fire_Points",
    *(f"Wilderness_Area{i}" for i in range(1, 5)),
    *(f"Soil_Type{i}" for i in range(1, 41)),
    "Cover_Type",
)


def write_tps_dec(folder: Path, train: Sequence[Row], test: Sequence[Row]) -> None:
    """Rows in ``DEC_COLUMNS`` order."""
    public, private = _dirs(folder)
    write_csv(public / "train.csv", DEC_COLUMNS, train)
    write_csv(private / "test.csv", DEC_COLUMNS, test)
    write_csv(public / "test.csv", DEC_COLUMNS[:-1], [r[:-1] for r in test])
    write_csv(public / "sample_submission.csv", ["Id", "Cover_Type"], [[r[0], 2] for r in test])


def build_tps_dec(folder: Path) -> None:
    rng = np.random.default_rng(304)
    ids = [int(i) for i in rng.choice(4_000_000, 40, replace=False)]
    covers = [1, 2, 2, 3, 2, 1, 7, 2, 6, 1]  # the test set's, then random ones for train
    rows = []
    for k, ident in enumerate(ids):
        lows = (1800, 0, 0, 0, -100, 0, 0, 50, 0, 0)
        highs = (3900, 360, 60, 1500, 500, 7000, 255, 255, 255, 7000)
        measures = [int(rng.integers(lo, hi)) for lo, hi in zip(lows, highs)]
        wilderness = [int(rng.random() < 0.3) for _ in range(4)]
        soil = [int(rng.random() < 0.05) for _ in range(40)]
        cover = covers[k - 30] if k >= 30 else int(rng.choice([1, 2, 2, 2, 3, 7]))
        rows.append([ident, *measures, *wilderness, *soil, cover])
    write_tps_dec(folder, rows[:30], rows[30:])


# --- tabular-playground-series-may-2022 ----------------------------------------------------------------------------
# Ids are renumbered 0..n-1 over train, then on over test; a private gold_submission.csv comes along.

MAY_COLUMNS = ("id", *(f"f_{i:02d}" for i in range(31)), "target")


def write_tps_may(folder: Path, train: Sequence[Row], test: Sequence[Row]) -> None:
    """Rows in ``MAY_COLUMNS`` order, ids numbered on from train into test."""
    public, private = _dirs(folder)
    write_csv(public / "train.csv", MAY_COLUMNS, train)
    write_csv(private / "test.csv", MAY_COLUMNS, test)
    write_csv(public / "test.csv", MAY_COLUMNS[:-1], [r[:-1] for r in test])
    write_csv(private / "gold_submission.csv", ["id", "target"], [[r[0], r[-1]] for r in test])
    write_csv(public / "sample_submission.csv", ["id", "target"], [[r[0], 0.5] for r in test])


def build_tps_may(folder: Path) -> None:
    rng = np.random.default_rng(305)
    rows = []
    for ident in range(40):
        first = [round(float(v), 6) for v in rng.normal(0, 1.2, 7)]
        counts = [int(v) for v in rng.poisson(2.5, 12)]
        middle = [round(float(v), 6) for v in rng.normal(0, 2.0, 8)]
        letters = "".join("ABCDEFGHIJKLMNOPQRST"[int(v)] for v in rng.integers(0, 20, 10))
        last = round(float(rng.normal(0, 200)), 6)
        target = int(ident in (31, 33, 34, 38)) if ident >= 30 else int(rng.random() < 0.5)
        rows.append(
            [ident, *first, *counts, *middle, letters, last, int(rng.integers(0, 2)), int(rng.integers(0, 3)), target]
        )
    write_tps_may(folder, rows[:30], rows[30:])


TABULAR_LAYOUTS: tuple[LiteLayout, ...] = (
    LiteLayout(
        id="leaf-classification",
        build=build_leaf,
        id_column="id",
        target_columns=LEAF_SPECIES,
        answers="private/test.csv",
        sample_submission="public/sample_submission.csv",
        values="probabilities",
        rows_sum_to_one=True,
    ),
    LiteLayout(
        id="new-york-city-taxi-fare-prediction",
        build=build_taxi,
        id_column="key",
        target_columns=("fare_amount",),
        answers="private/test.csv",
        sample_submission="public/sample_submission.csv",
        values="regression",
    ),
    LiteLayout(
        id="nomad2018-predict-transparent-conductors",
        build=build_nomad,
        id_column="id",
        target_columns=NOMAD_TARGETS,
        answers="private/test.csv",
        sample_submission="public/sample_submission.csv",
        values="regression",
    ),
    LiteLayout(
        id="tabular-playground-series-dec-2021",
        build=build_tps_dec,
        id_column="Id",
        target_columns=("Cover_Type",),
        answers="private/test.csv",
        sample_submission="public/sample_submission.csv",
        values="labels",
    ),
    LiteLayout(
        id="tabular-playground-series-may-2022",
        build=build_tps_may,
        id_column="id",
        target_columns=("target",),
        answers="private/test.csv",
        sample_submission="public/sample_submission.csv",
        values="probability",
    ),
)

LAYOUTS: tuple[LiteLayout, ...] = tuple(
    sorted((*TABULAR_LAYOUTS, *text.LAYOUTS, *audio.LAYOUTS), key=lambda layout: layout.id)
)
