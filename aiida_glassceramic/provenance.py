"""Questions to the provenance graph, answered with the QueryBuilder."""

from __future__ import annotations

from aiida import orm
from aiida.common.links import LinkType

from .data import NNPotentialData, TrainingSetData

NAMESPACE = '__'


def results_table(workflow: orm.WorkflowNode) -> dict[str, dict]:
    """Crystallinity, D(T), Ea and sigma with their standard errors per analysed structure (crystal, glass,
    snapshots) of a GlassCeramicWorkChain, from its output links ``crystallinity.<key>`` and ``diffusion.<key>``."""
    query = orm.QueryBuilder()
    query.append(orm.WorkflowNode, filters={'id': workflow.pk}, tag='workflow')
    query.append(
        orm.Dict,
        with_incoming='workflow',
        edge_filters={'label': {'or': [{'like': f'crystallinity{NAMESPACE}%'}, {'like': f'diffusion{NAMESPACE}%'}]}},
        edge_project='label',
        project='attributes',
    )
    table: dict[str, dict] = {}
    for attributes, label in query.iterall():
        kind, key = label.split(NAMESPACE, 1)
        if kind not in ('crystallinity', 'diffusion'):  # `_` of LIKE matches any character: crystallinity_after__
            continue
        row = table.setdefault(key, {})
        if kind == 'crystallinity':
            row['crystallinity'] = attributes['crystallinity']
        else:
            for name in ('D_A2_per_ps', 'D_stderr_A2_per_ps'):
                row[name] = dict(zip(attributes['temperature_K'], attributes[name], strict=True))
            for name in ('Ea_eV', 'Ea_stderr_eV', 'sigma_S_per_cm', 'sigma_stderr_S_per_cm'):
                row[name] = attributes.get(name)
    return table


def potential_behind(node: orm.Node) -> NNPotentialData:
    """The potential of the MD runs that ``node`` (a diffusion coefficient, a snapshot, a VDOS ...) derives from."""
    query = orm.QueryBuilder()
    query.append(NNPotentialData, tag='potential', project='*')
    query.append(orm.Node, filters={'id': node.pk}, with_ancestors='potential')
    potentials = {potential.pk: potential for (potential,) in query.iterall()}
    if len(potentials) != 1:
        raise ValueError(f'node {node.pk} derives from {len(potentials)} potentials, not exactly one')
    return next(iter(potentials.values()))


def training_origin(potential: NNPotentialData) -> dict:
    """The training calculation that made ``potential``, its training sets and the reference calculations (tblite
    or VASP) whose labels are in them."""
    training = potential.base.links.get_incoming(link_type=LinkType.CREATE).one().node
    training_sets = [link.node for link in training.base.links.get_incoming() if isinstance(link.node, TrainingSetData)]
    query = orm.QueryBuilder()
    query.append(TrainingSetData, filters={'id': {'in': [node.pk for node in training_sets]}}, tag='sets')
    query.append(orm.CalcJobNode, with_descendants='sets', project='*')
    references = sorted({calculation.pk: calculation for (calculation,) in query.iterall()}.values(), key=_pk)
    return {
        'training': training,
        'training_sets': training_sets,
        'reference_calculations': [calculation for calculation in references if calculation.pk != training.pk],
    }


def _pk(node: orm.Node) -> int:
    return node.pk


def stage_name(stage: orm.ProcessNode) -> str:
    """The process label of a stage of a study, with the stage's label where it has one (a stage that runs twice)."""
    return f'{stage.process_label} ({stage.label})' if stage.label else stage.process_label
