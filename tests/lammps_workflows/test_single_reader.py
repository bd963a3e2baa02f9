"""The parser of LAMMPS runs is the package's one reader of LAMMPS output: no other module opens ``lammps.out``, touches
a retrieved folder (only parsers do, each of its own calculation) or takes a reader from the LAMMPS parser."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import aiida_glassceramic

PACKAGE = Path(aiida_glassceramic.__file__).parent
PARSER = PACKAGE / 'parsers' / 'lammps.py'
SCREEN_OUTPUT = 'lammps.out'


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring constants of ``tree`` (text about the output is no reading of it)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def reads_lammps_output(source: str, is_parser: bool) -> list[str]:
    """What in ``source`` (a module other than the LAMMPS parser) reads LAMMPS output; ``is_parser``: a parser of
    another calculation, which may read its own retrieved folder."""
    tree = ast.parse(source)
    skip = docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if SCREEN_OUTPUT in node.value:
                found.append(f'the string {node.value!r}')
            if node.value == 'retrieved' and not is_parser:
                found.append("the output 'retrieved'")
        elif isinstance(node, ast.Attribute) and node.attr in ('retrieved', 'FILENAME_OUTPUT') and not is_parser:
            found.append(f'.{node.attr}')
        elif isinstance(node, ast.Name | ast.arg) and not is_parser:
            if 'retrieved' in (getattr(node, 'id', None), getattr(node, 'arg', None)):
                found.append('a retrieved folder')
        elif isinstance(node, ast.ImportFrom) and (node.module or '').endswith('parsers.lammps'):
            found.append(f'an import from {node.module}')
    return found


def package_modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob('*.py') if path != PARSER)


@pytest.mark.parametrize('path', package_modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_other_module_reads_lammps_output(path):
    assert reads_lammps_output(path.read_text(), path.parent.name == 'parsers') == []


@pytest.mark.parametrize(
    'code',
    [
        "STDOUT = 'lammps.out'",
        "text = node.outputs.retrieved.base.repository.get_object_content('final.dump')",
        'def parse_thermo(retrieved):\n    return retrieved.base.repository.list_object_names()',
        "files = node.outputs['retrieved']",
        'from ..parsers.lammps import STDOUT, non_finite_thermo',
        'name = LammpsRawCalculation.FILENAME_OUTPUT',
    ],
)
def test_the_check_finds_readers(code):
    """Each way the workflows read LAMMPS output before the parser did it all."""
    assert reads_lammps_output(code, is_parser=False)
