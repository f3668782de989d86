"""Tests for finding the crash site in the child's output."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mle_ci.report.traceback import MAX_EXCEPTION, find_crash_site
from mle_ci.resultparts import CrashSite

WS = "/github/workspace"

SIMPLE = [
    "Epoch 1/3: loss=0.5",
    "Traceback (most recent call last):",
    f'  File "{WS}/train.py", line 88, in <module>',
    "    main()",
    f'  File "{WS}/src/model.py", line 42, in forward',
    "    return self.head(x)",
    "           ^^^^^^^^^^^^",
    '  File "/usr/lib/python3.11/site-packages/torch/nn/modules/module.py", line 1511, in _call_impl',
    "    return forward_call(*args, **kwargs)",
    "RuntimeError: mat1 and mat2 shapes cannot be multiplied (4x3 and 4x5)",
]


def test_innermost_workspace_frame_is_returned_relative_to_the_workspace() -> None:
    """The deepest frame inside the workspace wins over library frames below it."""
    site = find_crash_site(SIMPLE, WS)
    assert site == CrashSite(
        file="src/model.py",
        line=42,
        function="forward",
        exception="RuntimeError: mat1 and mat2 shapes cannot be multiplied (4x3 and 4x5)",
    )


def test_no_traceback_gives_none() -> None:
    """Output without a traceback has no crash site."""
    assert find_crash_site(["Epoch 1/3: loss=0.5", "done"], WS) is None


def test_empty_output_gives_none() -> None:
    """No lines at all is no crash site."""
    assert find_crash_site([], WS) is None


def test_traceback_without_workspace_frames_gives_none() -> None:
    """A traceback entirely in libraries has no site in the workspace."""
    lines = [
        "Traceback (most recent call last):",
        '  File "/usr/lib/python3.11/runpy.py", line 198, in _run_module_as_main',
        '  File "<frozen runpy>", line 88, in _run_code',
        "KeyError: 'x'",
    ]
    assert find_crash_site(lines, WS) is None


def test_last_of_chained_tracebacks_wins() -> None:
    """With ``During handling ...`` chains, the final traceback names the crash."""
    lines = [
        "Traceback (most recent call last):",
        f'  File "{WS}/data.py", line 10, in load',
        "KeyError: 'label'",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        f'  File "{WS}/train.py", line 5, in <module>',
        f'  File "{WS}/data.py", line 12, in load',
        "ValueError: no label column",
    ]
    site = find_crash_site(lines, WS)
    assert site is not None
    assert (site.file, site.line, site.exception) == ("data.py", 12, "ValueError: no label column")


def test_later_traceback_wins_over_an_earlier_one() -> None:
    """Of two separate tracebacks in the output, the last one is the crash."""
    first = ["Traceback (most recent call last):", f'  File "{WS}/a.py", line 1, in f', "OSError: a"]
    second = ["Traceback (most recent call last):", f'  File "{WS}/b.py", line 2, in g', "OSError: b"]
    site = find_crash_site([*first, "retrying", *second], WS)
    assert site is not None
    assert site.file == "b.py"


def test_truncated_last_header_falls_back_to_the_previous_traceback() -> None:
    """A final header whose frames were cut off does not hide the traceback before it."""
    lines = [
        "Traceback (most recent call last):",
        f'  File "{WS}/a.py", line 3, in f',
        "OSError: a",
        "Traceback (most recent call last):",
    ]
    site = find_crash_site(lines, WS)
    assert site is not None
    assert site.file == "a.py"


def test_rank_prefixes_are_stripped_and_other_ranks_ignored() -> None:
    """``[rank0]:`` lines are read as one traceback even when ``[rank1]:`` lines interleave."""
    lines = [
        "[rank0]: Traceback (most recent call last):",
        f'[rank0]:   File "{WS}/train.py", line 30, in <module>',
        f'[rank1]:   File "{WS}/other.py", line 99, in elsewhere',
        "[rank0]:     step()",
        f'[rank0]:   File "{WS}/train.py", line 20, in step',
        "[rank1]: NotMine: rank one",
        "[rank0]: torch.OutOfMemoryError: CUDA out of memory.",
    ]
    site = find_crash_site(lines, WS)
    assert site == CrashSite("train.py", 20, "step", "torch.OutOfMemoryError: CUDA out of memory.")


def test_timestamp_prefixes_that_change_from_line_to_line_are_stripped() -> None:
    """Log lines stamped with the time (same shape, other digits) still form one traceback."""
    lines = [
        "2024-05-01 12:00:00,101 | Traceback (most recent call last):",
        f'2024-05-01 12:00:00,102 |   File "{WS}/train.py", line 7, in <module>',
        "2024-05-01 12:00:00,103 |     fit()",
        f'2024-05-01 12:00:00,104 |   File "{WS}/fit.py", line 3, in fit',
        "2024-05-01 12:00:00,105 | ZeroDivisionError: division by zero",
    ]
    site = find_crash_site(lines, WS)
    assert site == CrashSite("fit.py", 3, "fit", "ZeroDivisionError: division by zero")


def test_relative_frame_paths_are_resolved_against_the_workspace() -> None:
    """``File "src/x.py"`` (as ``python src/x.py`` prints) lies in the workspace."""
    lines = ["Traceback (most recent call last):", '  File "./src/x.py", line 4, in <module>', "E: e"]
    site = find_crash_site(lines, WS)
    assert site is not None
    assert site.file == "src/x.py"


def test_relative_workspace_dot_accepts_relative_frames() -> None:
    """With the workspace given as ``.``, relative frames are inside it and ``..`` ones are not."""
    lines = [
        "Traceback (most recent call last):",
        '  File "train.py", line 4, in <module>',
        '  File "../outside.py", line 9, in f',
        "E: e",
    ]
    site = find_crash_site(lines, ".")
    assert site is not None
    assert (site.file, site.line) == ("train.py", 4)


def test_workspace_with_trailing_slash_matches() -> None:
    """A trailing slash on the workspace does not matter."""
    site = find_crash_site(SIMPLE, WS + "/")
    assert site is not None
    assert site.file == "src/model.py"


def test_sibling_directory_with_the_same_prefix_is_outside() -> None:
    """``/github/workspace2/x.py`` is not inside ``/github/workspace``."""
    lines = ["Traceback (most recent call last):", f'  File "{WS}2/x.py", line 1, in f', "E: e"]
    assert find_crash_site(lines, WS) is None


def test_site_packages_inside_the_workspace_are_skipped() -> None:
    """A virtualenv inside the workspace is library code, not the crash site."""
    lines = [
        "Traceback (most recent call last):",
        f'  File "{WS}/train.py", line 2, in <module>',
        f'  File "{WS}/.venv/lib/python3.11/site-packages/sklearn/base.py", line 9, in fit',
        "ValueError: bad input",
    ]
    site = find_crash_site(lines, WS)
    assert site is not None
    assert site.file == "train.py"


def test_frozen_and_string_frames_are_skipped() -> None:
    """``<frozen ...>`` and ``<string>`` frames never count as workspace files."""
    lines = [
        "Traceback (most recent call last):",
        f'  File "{WS}/run.py", line 1, in <module>',
        '  File "<string>", line 1, in <module>',
        '  File "<frozen importlib._bootstrap>", line 1, in _find_and_load',
        "ImportError: nope",
    ]
    site = find_crash_site(lines, WS)
    assert site is not None
    assert site.file == "run.py"


def test_windows_paths_come_back_with_forward_slashes() -> None:
    """Backslashed paths are compared and returned with forward slashes."""
    lines = [
        "Traceback (most recent call last):",
        r'  File "C:\work\proj\src\train.py", line 3, in main',
        "OSError: disk",
    ]
    site = find_crash_site(lines, "C:\\work\\proj")
    assert site is not None
    assert site.file == "src/train.py"


def test_dataloader_original_traceback_points_at_the_dataset_code() -> None:
    """PyTorch's ``Original Traceback`` from a worker is read, so the site is the user's dataset."""
    lines = [
        "Traceback (most recent call last):",
        f'  File "{WS}/train.py", line 50, in <module>',
        '  File "/opt/conda/lib/python3.11/site-packages/torch/utils/data/dataloader.py", line 1, in __next__',
        "ValueError: Caught ValueError in DataLoader worker process 0.",
        "Original Traceback (most recent call last):",
        '  File "/opt/conda/lib/python3.11/site-packages/torch/utils/data/_utils/worker.py", line 3, in _loop',
        f'  File "{WS}/dataset.py", line 17, in __getitem__',
        "ValueError: image 12 is empty",
    ]
    site = find_crash_site(lines, WS)
    assert site == CrashSite("dataset.py", 17, "__getitem__", "ValueError: image 12 is empty")


def test_syntax_error_frame_without_function_is_accepted() -> None:
    """A SyntaxError's frame has no ``in func`` part; the function is None."""
    lines = [
        "Traceback (most recent call last):",
        f'  File "{WS}/train.py", line 3',
        "    foo(",
        "       ^",
        "SyntaxError: '(' was never closed",
    ]
    site = find_crash_site(lines, WS)
    assert site == CrashSite("train.py", 3, None, "SyntaxError: '(' was never closed")


def test_traceback_cut_before_the_exception_line_has_no_exception() -> None:
    """When output ends inside the traceback, the site is known and the exception is None."""
    site = find_crash_site(SIMPLE[:5], WS)
    assert site == CrashSite("src/model.py", 42, "forward", None)


def test_very_long_exception_line_is_shortened() -> None:
    """A megabyte exception message is cut to a bounded length."""
    lines = ["Traceback (most recent call last):", f'  File "{WS}/t.py", line 1, in f', "E: " + "x" * 100_000]
    site = find_crash_site(lines, WS)
    assert site is not None
    assert site.exception is not None
    assert len(site.exception) == MAX_EXCEPTION


def test_recursion_repeat_notes_and_carets_are_not_the_exception() -> None:
    """Indented lines such as ``[Previous line repeated 996 more times]`` are skipped."""
    lines = [
        "Traceback (most recent call last):",
        f'  File "{WS}/r.py", line 2, in f',
        "    return f()",
        "  [Previous line repeated 996 more times]",
        "RecursionError: maximum recursion depth exceeded",
    ]
    site = find_crash_site(lines, WS)
    assert site is not None
    assert site.exception == "RecursionError: maximum recursion depth exceeded"


def test_control_characters_in_the_exception_are_made_harmless() -> None:
    """Escape codes and control characters from the child do not reach the crash site."""
    lines = ["Traceback (most recent call last):", f'  File "{WS}/t.py", line 1, in f', "E: \x1b[31mred\x00"]
    site = find_crash_site(lines, WS)
    assert site is not None
    assert site.exception == "E: red\ufffd"


@given(st.lists(st.text(max_size=80), max_size=30))
def test_arbitrary_output_never_raises_and_sites_stay_inside(lines: list[str]) -> None:
    """Whatever the child printed, the search returns None or a relative path without ``..``."""
    framed = ["Traceback (most recent call last):", *lines, f'  File "{WS}/{lines[0] if lines else "x"}.py", line 1']
    for candidate in (lines, framed):
        site = find_crash_site(candidate, WS)
        if site is not None:
            assert not site.file.startswith("/")
            assert ".." not in site.file.split("/")
            assert site.line >= 0


def test_faulthandler_dump_gives_the_innermost_workspace_frame_of_the_crashing_thread() -> None:
    """A segfault's faulthandler dump (most recent call first) points at the user's frame in the current thread."""
    lines = [
        "about to crash",
        "Fatal Python error: Segmentation fault",
        "",
        "Thread 0x00007f0000000001 (most recent call first):",
        '  File "/ws/loader.py", line 3 in worker',
        "",
        "Current thread 0x00007f9d9e4b5b80 (most recent call first):",
        '  File "/usr/lib/python3.11/ctypes/__init__.py", line 519 in string_at',
        '  File "/ws/model.py", line 6 in forward',
        '  File "/ws/train.py", line 40 in <module>',
        "",
        "Extension modules: numpy.core._multiarray_umath (total: 1)",
    ]
    site = find_crash_site(lines, "/ws")
    assert site == CrashSite(
        file="model.py", line=6, function="forward", exception="Fatal Python error: Segmentation fault"
    )


def test_a_later_traceback_wins_over_an_earlier_fatal_error() -> None:
    """The last crash report in the output is the one that counts."""
    lines = [
        "Fatal Python error: Aborted",
        "Current thread 0x01 (most recent call first):",
        '  File "/ws/old.py", line 1 in f',
        "Traceback (most recent call last):",
        '  File "/ws/new.py", line 2, in g',
        "ValueError: x",
    ]
    site = find_crash_site(lines, "/ws")
    assert site is not None
    assert site.file == "new.py"
