"""A clip's short-time spectrum summarised as features: log energies in bands of hertz, their shape and their peaks.

Each band's median over time is subtracted ("whitening"), so a steady noise floor drops out and a call stands out
as a peak; the diagonal sums over the 50–300 Hz bands look for a rising tone, the shape of a right whale's up-call.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from mle_ci.agents.baseline.special.aiff import Clip

FloatArray = NDArray[np.float64]

WINDOW_SECONDS = 0.128
"""The spectrum's window: about 8 Hz of resolution, short enough to follow a one-second sweep."""

BAND_EDGES = (*range(0, 425, 25), 500, 600, 800, 1000)
"""Band edges in hertz: fine where up-calls are (50–250 Hz), coarse above."""

CALL_BANDS = (50, 300)
SWEEP_LAGS = (1, 2, 4)
"""Frames per band step of the rising diagonals looked for."""

BANDS = len(BAND_EDGES) - 1
FEATURES = 3 * BANDS + 2 + len(SWEEP_LAGS)


@functools.lru_cache(maxsize=8)
def _band_matrix(size: int, rate: float) -> FloatArray:
    """Bins × bands weights averaging the bins of each band; a band without a bin takes its nearest one."""
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    matrix = np.zeros((len(freqs), BANDS))
    for band, (low, high) in enumerate(itertools.pairwise(BAND_EDGES)):
        inside = (freqs >= low) & (freqs < high)
        if inside.any():
            matrix[inside, band] = 1.0 / inside.sum()
        else:
            matrix[int(np.argmin(np.abs(freqs - (low + high) / 2))), band] = 1.0
    return matrix


def log_bands(clip: Clip) -> FloatArray:
    """Frames × bands log energies of the Hann-windowed spectrum, frames a quarter window apart."""
    wanted = max(8.0, min(WINDOW_SECONDS * clip.rate, float(len(clip.samples))))
    size = 2 ** int(np.log2(wanted))
    samples = clip.samples - clip.samples.mean()
    if len(samples) < size:
        samples = np.pad(samples, (0, size - len(samples)))
    frames = sliding_window_view(samples, size)[:: max(size // 4, 1)] * np.hanning(size)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    energies = power @ _band_matrix(size, clip.rate)
    result: FloatArray = np.log(energies + 1e-12)
    return result


def _sweeps(whitened: FloatArray, bands: NDArray[np.int64]) -> list[float]:
    """For each lag, the largest mean of whitened energies along a diagonal rising one band per ``lag`` frames."""
    frames = len(whitened)
    out = []
    for lag in SWEEP_LAGS:
        span = lag * (len(bands) - 1)
        if len(bands) < 2 or frames <= span:
            out.append(0.0)
            continue
        starts = frames - span
        diagonal = sum(whitened[step * lag : step * lag + starts, band] for step, band in enumerate(bands))
        out.append(float(np.max(diagonal)) / len(bands))
    return out


def clip_features(clip: Clip) -> FloatArray:
    """Band shape, whitened peak and spread per band, loudness, the call bands' peak and the rising diagonals."""
    bands = log_bands(clip)
    loudness = float(bands.mean())
    whitened = bands - np.median(bands, axis=0)
    centres = (np.array(BAND_EDGES[:-1]) + np.array(BAND_EDGES[1:])) / 2
    call = np.flatnonzero((centres >= CALL_BANDS[0]) & (centres <= CALL_BANDS[1]))
    call_peak = float(whitened[:, call].mean(axis=1).max()) if len(call) else 0.0
    return np.concatenate(
        [
            bands.mean(axis=0) - loudness,
            whitened.max(axis=0),
            whitened.std(axis=0),
            [loudness, call_peak],
            _sweeps(whitened, call),
        ]
    )
