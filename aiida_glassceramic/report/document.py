"""A report as a list of blocks (headings, text, tables, figures), written as markdown beside its PNG files and as one
self-contained HTML page (figures embedded)."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; line-height: 1.4; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; }
figcaption { font-size: 0.9em; color: #444; }
"""


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Figure:
    path: Path
    caption: str


Block = Heading | Text | Table | Figure


def markdown(blocks: list[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            lines += ['#' * block.level + ' ' + block.text, '']
        elif isinstance(block, Text):
            lines += [block.text, '']
        elif isinstance(block, Table):
            lines.append('| ' + ' | '.join(block.header) + ' |')
            lines.append('|' + ' --- |' * len(block.header))
            lines += ['| ' + ' | '.join(cell.replace('|', '/') for cell in row) + ' |' for row in block.rows]
            lines.append('')
        else:
            lines += [f'![{block.caption}]({block.path.name})', '', f'*{block.caption}*', '']
    return '\n'.join(lines)


def html_page(title: str, blocks: list[Block]) -> str:
    parts = [
        '<!DOCTYPE html>',
        '<html lang="en"><head><meta charset="utf-8">',
        f'<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>',
    ]
    for block in blocks:
        if isinstance(block, Heading):
            parts.append(f'<h{block.level}>{html.escape(block.text)}</h{block.level}>')
        elif isinstance(block, Text):
            parts.append(f'<p>{html.escape(block.text)}</p>')
        elif isinstance(block, Table):
            header = ''.join(f'<th>{html.escape(cell)}</th>' for cell in block.header)
            rows = ''.join(
                '<tr>' + ''.join(f'<td>{html.escape(cell)}</td>' for cell in row) + '</tr>' for row in block.rows
            )
            parts.append(f'<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>')
        else:
            data = base64.b64encode(block.path.read_bytes()).decode('ascii')
            parts.append(
                f'<figure id="{html.escape(block.path.stem)}"><img alt="{html.escape(block.caption)}" '
                f'src="data:image/png;base64,{data}"><figcaption>{html.escape(block.caption)}</figcaption></figure>'
            )
    parts.append('</body></html>')
    return '\n'.join(parts)
