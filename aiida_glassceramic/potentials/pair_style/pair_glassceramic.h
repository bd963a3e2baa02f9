/* pair_style glassceramic: the Behler-Parrinello neural network potential of aiida-glassceramic in LAMMPS.

   pair_style glassceramic
   pair_coeff * * FILE ELEMENT_OF_TYPE_1 ELEMENT_OF_TYPE_2 ...

   Many-body, full neighbour list, newton pair on: forces on ghost atoms go back through reverse communication.
   Counts the atoms with a symmetry function outside its training range (extrapolation warnings) and prints the
   count of each run at its end; `compute ID all pair glassceramic` gives them to thermo output: c_ID[1] the atoms
   outside in the last force evaluation, c_ID[2] the atom-steps outside in the run so far. */

#ifndef LMP_PAIR_GLASSCERAMIC_H
#define LMP_PAIR_GLASSCERAMIC_H

#include "glassceramic_model.h"
#include "pair.h"

#include <string>
#include <vector>

namespace LAMMPS_NS {

class PairGlassCeramic : public Pair {
 public:
  PairGlassCeramic(class LAMMPS *);
  ~PairGlassCeramic() override;
  void compute(int, int) override;
  void settings(int, char **) override;
  void coeff(int, char **) override;
  void init_style() override;
  double init_one(int, int) override;
  double memory_usage() override;
  void finish() override;

 protected:
  glassceramic::Model model;
  std::string filename;
  std::vector<glassceramic::Neighbour> neighbours;
  std::vector<int> neighbour_atoms;
  std::vector<std::array<double, 3>> gradient;
  glassceramic::Workspace workspace;
  // extrapolation warnings of the run, summed over the ranks: atom-steps, steps with any, most atoms in one step
  bigint warned_atom_steps = 0, warned_steps = 0, warned_max_atoms = 0, first_warned_step = -1;

  void count_extrapolation(bigint local);

  void allocate();
  std::string read_file(const std::string &path);
};

}    // namespace LAMMPS_NS

#endif
