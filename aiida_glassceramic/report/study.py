"""The outputs of a finished study, in the order and with the keys the report needs: structures (crystal, glass,
snapshots by anneal time), their result nodes, and numbers with their uncertainty and provenance PK."""

from __future__ import annotations

from dataclasses import dataclass

from aiida import orm

from ..engines.lammps_scripts import snapshot_time_fs
from ..workflows.lammps_base import section, temperature_label

STRUCTURE_NAMESPACES = ('crystallinity', 'speciation', 'domains', 'fingerprint', 'xrd_pattern', 'diffusion')


@dataclass(frozen=True)
class Study:
    node: orm.WorkflowNode
    keys: list[str]
    structures: dict[str, orm.StructureData]
    anneal_ns: dict[str, float]
    temperatures: list[float]

    def result(self, namespace: str, key: str) -> orm.Data | None:
        outputs = self.node.outputs
        return outputs[namespace][key] if namespace in outputs and key in outputs[namespace] else None

    def run(self, namespace: str, key: str, temperature: float) -> orm.Data | None:
        return self.result(namespace, f'{key}_{temperature_label(temperature)}')

    @property
    def snapshots(self) -> list[str]:
        return [key for key in self.keys if key in self.anneal_ns]


def read_study(node: orm.WorkflowNode) -> Study:
    outputs = node.outputs
    snapshots = sorted(outputs.snapshots, key=snapshot_time_fs) if 'snapshots' in outputs else []
    structures = {'crystal': outputs.crystal_supercell, 'glass': outputs.glass}
    structures |= {key: outputs.snapshots[key] for key in snapshots}
    anneal_ns = {key: snapshot_time_fs(key) / 1e6 for key in snapshots}
    temperatures = sorted(node.inputs.diffusion.parameters['temperatures'])
    return Study(node, list(structures), structures, anneal_ns, temperatures)


def uses_protocol(node: orm.WorkflowNode, protocol: str) -> bool:
    """Whether the study ran with the MD settings, cell and analysis of ``protocol`` of the package."""
    from ..workflows.glassceramic import MD_STAGES, GlassCeramicWorkChain

    settings = GlassCeramicWorkChain.get_protocol_inputs(protocol)
    md = MD_STAGES['anneal'].get_protocol_inputs(settings['stages']['md'])
    return (
        node.inputs.supercell.get_list() == settings['supercell']
        and node.inputs.analysis.get_dict() == settings['analysis']
        and all(
            node.inputs[name].parameters.get_dict() == section(md, name) for name in MD_STAGES if name in node.inputs
        )
    )


def measured(entry: dict | None, name: str, unit: str, pk: int | None = None, digits: int = 3) -> str:
    """``value ± stderr (95 %: low to high) unit [PK]`` from the ``<name>_<unit>`` entries of a result."""
    suffix = f'_{unit}' if unit else ''
    if not entry or entry.get(f'{name}{suffix}') is None:
        return ''
    value, stderr = entry[f'{name}{suffix}'], entry.get(f'{name}_stderr{suffix}')
    text = f'{value:.{digits}g}'
    if stderr is not None:
        text += f' ± {stderr:.2g}'
    interval = entry.get(f'{name}_ci95{suffix}')
    if interval and None not in interval:
        text += f' (95 %: {interval[0]:.{digits}g} to {interval[1]:.{digits}g})'
    text += f' {UNITS.get(unit, unit)}'.rstrip()
    return text + (f' [PK {pk}]' if pk is not None else '')


UNITS = {'A2_per_ps': 'A^2/ps', 'cm2_per_s': 'cm^2/s', 'S_per_cm': 'S/cm', 'eV': 'eV', 'A': 'A', '': ''}
