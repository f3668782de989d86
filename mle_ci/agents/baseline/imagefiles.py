"""The image files of a data folder, in its folders and its zips, indexed by file name and stem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mle_ci.agents.baseline.archives import ZipListing, extract_members
from mle_ci.agents.baseline.task import IMAGE_SUFFIXES, image_index

DICOM_SUFFIX = ".dcm"

_LISTED = 6
"""Folders named one by one in a note; more are counted."""


@dataclass(frozen=True)
class ImageFile:
    """One image: where it sits (a path under the data folder, a zip's name first for a zipped one) and its file."""

    where: PurePosixPath
    path: Path

    @property
    def train(self) -> bool:
        """Whether a folder (or zip) on its way is a train one: ``train/``, ``train_images/``, ``jpeg/train/``..."""
        return any(part.lower().startswith("train") for part in self.where.parts[:-1])


@dataclass(frozen=True)
class Images:
    """The images of a data folder: the index the agent reads them by, every file, and the decisions taken."""

    index: dict[str, Path]
    files: tuple[ImageFile, ...]
    notes: tuple[str, ...]


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown if len(names) <= _LISTED else f"{shown} and {len(names) - _LISTED} more"


def _folder_images(public: Path) -> tuple[list[ImageFile], list[str]]:
    """The image files under the folder, and notes on them and on its DICOM files."""
    images: list[ImageFile] = []
    dicoms: list[Path] = []
    for path in sorted(public.rglob("*")):
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES and path.is_file():
            images.append(ImageFile(PurePosixPath(path.relative_to(public).as_posix()), path))
        elif suffix == DICOM_SUFFIX and path.is_file():
            dicoms.append(path)
    notes: list[str] = []
    if images:
        folders = sorted({f"{image.where.parent}/" for image in images})
        notes.append(f"images in folders {_listed(folders)} ({len(images)} files)")
    if dicoms:
        stems = {image.path.stem for image in images}
        twins = sum(1 for path in dicoms if path.stem in stems)
        if twins:
            notes.append(f"{twins} DICOM files ignored: images of the same names are used")
        if twins < len(dicoms):
            notes.append(f"{len(dicoms) - twins} DICOM files without an image twin are not read (no DICOM decoder)")
    return images, notes


def collect_images(public: Path, zips: Sequence[ZipListing], scratch: Path) -> Images:
    """Index the images under ``public`` and in ``zips``, extracting a zip under ``scratch`` unless its images are
    already in the folders (``train.zip`` beside ``train/``)."""
    files, notes = _folder_images(public)
    index = image_index(public)
    extracted: list[str] = []
    reused: list[str] = []
    for listing in zips:
        members = listing.with_suffix(IMAGE_SUFFIXES)
        if all(PurePosixPath(member).name in index for member in members):
            notes.append(f"{listing.path.name} not extracted: its images are in the folders already")
            continue
        folder, fresh = extract_members(listing.path, members, scratch)
        (extracted if fresh else reused).append(listing.path.name)
        files.extend(
            ImageFile(PurePosixPath(listing.path.name) / member, folder.joinpath(*PurePosixPath(member).parts))
            for member in sorted(members)
        )
        found = image_index(folder)
        clashes = sum(1 for key, path in found.items() if key == path.name and key in index)
        for key, path in found.items():
            index.setdefault(key, path)
        if clashes:
            notes.append(f"{clashes} images of {listing.path.name} share a name with an earlier one: that one is used")
    if extracted:
        notes.append(f"images from {', '.join(extracted)} (extracted)")
    if reused:
        notes.append(f"images from {', '.join(reused)} (extracted by an earlier run)")
    return Images(index, tuple(files), tuple(notes))
