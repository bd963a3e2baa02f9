"""Questions to the provenance graph of a finished study: ``verdi run examples/provenance_queries.py PK``.

Prints the table of crystallinity, D, Ea and sigma per structure, then, for the glass' diffusion coefficient, the
potential behind it, the training calculation and the reference calculations that produced its training data.
"""

import sys

from aiida import orm

from aiida_glassceramic.provenance import potential_behind, results_table, training_origin

workflow = orm.load_node(int(sys.argv[1]))
for key, row in results_table(workflow).items():
    print(f'{key:>12}: {row}')

diffusion = workflow.outputs.diffusion['glass']
potential = potential_behind(diffusion)
origin = training_origin(potential)
print(f'D of the glass (Dict<{diffusion.pk}>) comes from potential NNPotentialData<{potential.pk}>,')
print(f'  trained by {origin["training"].process_label}<{origin["training"].pk}>')
print(f'  on {[f"TrainingSetData<{node.pk}>" for node in origin["training_sets"]]},')
print(f'  labelled by {len(origin["reference_calculations"])} reference calculations:')
for calculation in origin['reference_calculations'][:10]:
    print(f'    {calculation.process_label}<{calculation.pk}>')
