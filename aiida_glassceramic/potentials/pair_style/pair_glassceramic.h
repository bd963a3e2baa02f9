/* pair_style glassceramic: the Behler-Parrinello neural network potential of aiida-glassceramic in LAMMPS.

   pair_style glassceramic
   pair_coeff * * FILE ELEMENT_OF_TYPE_1 ELEMENT_OF_TYPE_2 ...

   Many-body, full neighbour list, newton pair on: forces on ghost atoms go back through reverse communication. */

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

 protected:
  glassceramic::Model model;
  std::string filename;
  std::vector<glassceramic::Neighbour> neighbours;
  std::vector<int> neighbour_atoms;
  std::vector<std::array<double, 3>> gradient;
  glassceramic::Workspace workspace;

  void allocate();
  std::string read_file(const std::string &path);
};

}    // namespace LAMMPS_NS

#endif
