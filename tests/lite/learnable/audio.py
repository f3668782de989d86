"""Learnable audio: right-whale up-calls (a rising tone) in some clips of ocean noise, and bird recordings in which
each species calls at its own pitch and rhythm, their spectrograms and segment tables computed from the sound."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..audio import MLSP_SPECIES, BirdRecording, mlsp_name, write_mlsp, write_whale
from ..files import aiff_bytes, bmp_bytes, wav_bytes
from .split import split_sizes


def _pcm(signal: np.ndarray) -> list[int]:
    return np.clip(np.round(signal), -32768, 32767).astype(np.int64).tolist()


def _sweep(count: int, rate: int, start_hz: float, end_hz: float) -> np.ndarray:
    """``count`` samples of a tone gliding linearly from ``start_hz`` to ``end_hz``, in a Hann envelope."""
    hz = np.linspace(start_hz, end_hz, count)
    return np.asarray(np.sin(2 * np.pi * np.cumsum(hz) / rate) * np.hanning(count))


# --- the-icml-2013-whale-challenge-right-whale-redux ---------------------------------------------------------------
# Two-second clips at 2 kHz: noise, a low rumble, now and then a falling or flat tone; a fifth of the clips hold an
# up-call (about 100 Hz rising to about 220 Hz over most of a second), some too faint to hear.

WHALE_RATE = 2000


def _whale_clip(rng: np.random.Generator, call: bool) -> bytes:
    count = 2 * WHALE_RATE
    time = np.arange(count) / WHALE_RATE
    noise_level = rng.uniform(400, 900)
    signal = rng.normal(0, noise_level, count)
    for _ in range(3):
        signal += rng.uniform(100, 600) * np.sin(2 * np.pi * rng.uniform(15, 60) * time + rng.uniform(0, 6.3))
    if rng.random() < 0.3:  # a distractor: another animal, a ship
        tone = _sweep(int(rng.integers(600, 2000)), WHALE_RATE, rng.uniform(120, 300), rng.uniform(60, 300))
        at = int(rng.integers(0, count - len(tone)))
        signal[at : at + len(tone)] += noise_level * rng.uniform(0.5, 1.5) * tone
    if call:
        tone = _sweep(int(rng.integers(1200, 2000)), WHALE_RATE, rng.uniform(80, 120), rng.uniform(190, 260))
        at = int(rng.integers(0, count - len(tone)))
        signal[at : at + len(tone)] += noise_level * rng.uniform(0.1, 1.5) * tone
    return aiff_bytes(_pcm(signal), WHALE_RATE)


def _whale_names(rng: np.random.Generator, days: tuple[str, ...], count: int, taken: set[str]) -> list[tuple[str, int]]:
    clips = []
    while len(clips) < count:
        slot, seconds = int(rng.integers(0, 96)), int(rng.integers(0, 900))
        prefix = f"{rng.choice(days)}_{slot // 4:02d}{15 * (slot % 4):02d}00_{seconds:03d}s{int(rng.integers(10))}ms"
        if prefix in taken:
            continue
        taken.add(prefix)
        label = int(rng.random() < 0.2) if len(clips) > 1 else len(clips)  # both labels in every split
        clips.append((f"{prefix}_TRAIN{len(taken)}_{label}.aif", label))
    return sorted(clips)


def whale(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    rng = np.random.default_rng(seed)
    taken: set[str] = set()
    train = _whale_names(rng, ("20090328", "20090329"), n_train, taken)
    test = _whale_names(rng, ("20090330", "20090331"), n_test, taken)
    write_whale(
        folder,
        [(name, label, _whale_clip(rng, bool(label))) for name, label in train],
        [(name, label, _whale_clip(rng, bool(label))) for name, label in test],
    )


# --- mlsp-2013-birds -----------------------------------------------------------------------------------------------
# Half-second recordings at 16 kHz with wind and rain. Species k calls at its own pitch (1 kHz + 300 Hz * k) with its
# own glide; each call is a segment: its rectangle, 38 features (pitch and length among them, the rest noise) and a
# cluster (five per species, the last five for noise) that makes the histogram of segments.

BIRD_RATE = 16000
_WINDOW, _HOP = 256, 128


def _spectrogram(signal: np.ndarray) -> np.ndarray:
    """Log magnitude, frequency rows from high (top) to low, 0-255."""
    frames = np.lib.stride_tricks.sliding_window_view(signal, _WINDOW)[::_HOP] * np.hanning(_WINDOW)
    power = np.log1p(np.abs(np.fft.rfft(frames, axis=1)).T[::-1])
    return np.asarray(np.clip(255 * power / max(float(power.max()), 1e-9), 0, 255).astype(np.uint8))


def _bird_recording(rng: np.random.Generator, k: int, species: tuple[int, ...], test: bool) -> BirdRecording:
    count = BIRD_RATE // 2
    signal = rng.normal(0, rng.uniform(200, 700), count)
    signal += np.convolve(rng.normal(0, 3000, count), np.ones(40) / 40, mode="same")  # wind
    calls: list[tuple[int, int, int]] = []  # species, first and last sample
    for s in species:
        for _ in range(int(rng.integers(1, 4))):
            length = int(BIRD_RATE * rng.uniform(0.04, 0.12))
            pitch = 1000 + 300 * s + rng.normal(0, 40)
            glide = (s % 3 - 1) * 400
            at = int(rng.integers(0, count - length))
            call = _sweep(length, BIRD_RATE, pitch, pitch + glide)
            signal[at : at + length] += rng.uniform(1500, 6000) * call
            calls.append((s, at, at + length))
    for _ in range(int(rng.poisson(1.0))):  # rain drops: noise segments
        at = int(rng.integers(0, count - 50))
        signal[at : at + 50] += rng.normal(0, 4000, 50)
        calls.append((-1, at, at + 50))
    image = _spectrogram(signal)
    filtered = np.clip(image.astype(int) - np.median(image, axis=1, keepdims=True) * 1.1, 0, 255).astype(np.uint8)
    mask = np.where(filtered > 40, 255, 0).astype(np.uint8)
    bins = np.zeros(100)
    segments = []
    for s, first, last in sorted(calls, key=lambda call: call[1]):
        cluster = 5 * s + int(rng.integers(0, 5)) if s >= 0 else 95 + int(rng.integers(0, 5))
        bins[cluster] += 1
        pitch = (1000 + 300 * s) / (BIRD_RATE / 2) if s >= 0 else rng.random()
        features = (pitch + rng.normal(0, 0.01), (last - first) / count, *rng.random(36).tolist())
        low = int((1000 + 300 * s) / (BIRD_RATE / 2) * image.shape[0]) if s >= 0 else 0
        rectangle = (first // _HOP, last // _HOP, max(low - 5, 0), low + 5 if s >= 0 else image.shape[0] - 1)
        segments.append((tuple(float(v) for v in features), rectangle))
    histogram = bins / bins.sum() if bins.sum() else bins
    return BirdRecording(
        name=mlsp_name(k),
        species=species,
        test=test,
        wav=wav_bytes(_pcm(signal), BIRD_RATE),
        spectrograms=(bmp_bytes(filtered), bmp_bytes(image), bmp_bytes(mask)),
        segmentation_example=bmp_bytes(mask) if k % 10 == 0 else None,
        histogram=tuple(float(v) for v in histogram),
        segments=tuple(segments),
    )


def mlsp(folder: Path, rows: int, seed: int) -> None:
    n_train, n_test = split_sizes(rows)
    total = n_train + n_test
    rng = np.random.default_rng(seed)
    test = set(rng.choice(total, n_test, replace=False).tolist())
    prevalence = rng.dirichlet(np.full(len(MLSP_SPECIES), 2.0))
    heard = []
    for _ in range(total):
        calling = int(rng.choice(4, p=[0.15, 0.45, 0.3, 0.1]))
        heard.append(tuple(sorted(int(s) for s in rng.choice(len(MLSP_SPECIES), calling, replace=False, p=prevalence))))
    heard[min(test)] = heard[min(test)] or (0,)  # the test set holds at least one bird
    recordings = [_bird_recording(rng, k, species, k in test) for k, species in enumerate(heard)]
    clusters = rng.integers(0, 256, (10, 10)).astype(np.uint8)
    mosaic = rng.integers(0, 256, (10, 20)).astype(np.uint8)
    write_mlsp(folder, recordings, bmp_bytes(clusters), bmp_bytes(mosaic))


LEARNABLE = {
    "mlsp-2013-birds": mlsp,
    "the-icml-2013-whale-challenge-right-whale-redux": whale,
}
