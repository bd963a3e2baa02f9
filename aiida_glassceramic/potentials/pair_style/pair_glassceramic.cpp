/* pair_style glassceramic: the Behler-Parrinello neural network potential of aiida-glassceramic in LAMMPS. */

#include "pair_glassceramic.h"

#include "atom.h"
#include "comm.h"
#include "domain.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "update.h"
#include "utils.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace LAMMPS_NS;

static constexpr double MASS_TOLERANCE = 0.05;    // relative, as the fix external driver

PairGlassCeramic::PairGlassCeramic(LAMMPS *lmp) : Pair(lmp)
{
  single_enable = 0;
  restartinfo = 0;
  one_coeff = 1;
  manybody_flag = 1;
  centroidstressflag = CENTROID_NOTAVAIL;
  nextra = 2;
  pvector = new double[nextra]();
}

PairGlassCeramic::~PairGlassCeramic()
{
  if (copymode) return;
  delete[] pvector;
  if (allocated) {    // Pair's destructor frees map
    memory->destroy(setflag);
    memory->destroy(cutsq);
  }
}

void PairGlassCeramic::compute(int eflag, int vflag)
{
  ev_init(eflag, vflag);
  double **x = atom->x;
  double **f = atom->f;
  const int *type = atom->type;
  const int nlocal = atom->nlocal;
  const int newton_pair = force->newton_pair;
  const double cutoff_squared = model.cutoff * model.cutoff;
  bigint extrapolating = 0;

  for (int ii = 0; ii < list->inum; ++ii) {
    const int i = list->ilist[ii];
    const int centre = map[type[i]];
    if (centre < 0) continue;
    neighbours.clear();
    neighbour_atoms.clear();
    const int *jlist = list->firstneigh[i];
    for (int jj = 0; jj < list->numneigh[i]; ++jj) {
      const int j = jlist[jj] & NEIGHMASK;
      const int element = map[type[j]];
      if (element < 0) continue;
      const std::array<double, 3> v = {x[j][0] - x[i][0], x[j][1] - x[i][1], x[j][2] - x[i][2]};
      const double rsq = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
      if (rsq >= cutoff_squared) continue;
      if (rsq == 0.0)
        error->one(FLERR, "Pair glassceramic: atoms {} and {} sit on the same position", atom->tag[i], atom->tag[j]);
      neighbours.push_back({element, v});
      neighbour_atoms.push_back(j);
    }
    const double energy = model.energy(centre, neighbours, gradient, workspace);
    if (model.has_ranges && model.extrapolates(centre, workspace)) ++extrapolating;
    for (size_t n = 0; n < neighbours.size(); ++n) {
      // dE/dv with v = x_j - x_i: the force on i is +dE/dv, on j -dE/dv
      const int j = neighbour_atoms[n];
      const double *g = gradient[n].data();
      const double *v = neighbours[n].v.data();
      for (int c = 0; c < 3; ++c) {
        f[i][c] += g[c];
        f[j][c] -= g[c];
      }
      if (vflag_either) ev_tally_xyz(i, j, nlocal, newton_pair, 0.0, 0.0, g[0], g[1], g[2], -v[0], -v[1], -v[2]);
    }
    if (eflag_global) eng_vdwl += energy;
    if (eflag_atom) eatom[i] += energy;
  }
  if (vflag_fdotr) virial_fdotr_compute();
  if (model.has_ranges) count_extrapolation(extrapolating);
}

void PairGlassCeramic::count_extrapolation(bigint local)
{
  pvector[0] = static_cast<double>(local);
  pvector[1] += static_cast<double>(local);
  bigint atoms = 0;
  MPI_Allreduce(&local, &atoms, 1, MPI_LMP_BIGINT, MPI_SUM, world);
  if (atoms == 0) return;
  warned_atom_steps += atoms;
  ++warned_steps;
  warned_max_atoms = std::max(warned_max_atoms, atoms);
  if (first_warned_step < 0) first_warned_step = update->ntimestep;
}

// called by LAMMPS at the end of each run (and minimization): the run's extrapolation warnings, then a new count
void PairGlassCeramic::finish()
{
  if (comm->me == 0) {
    if (!model.has_ranges)
      utils::logmesg(lmp, "glassceramic: extrapolation warnings: not counted (potential file {} records no "
                          "symmetry-function ranges; export it from a potential trained with ranges)\n", filename);
    else
      utils::logmesg(lmp, "glassceramic: extrapolation warnings: {} atom-steps in {} steps ({} atoms at most in one "
                          "step; first at step {})\n", warned_atom_steps, warned_steps, warned_max_atoms,
                     first_warned_step < 0 ? std::string("none") : std::to_string(first_warned_step));
  }
  warned_atom_steps = warned_steps = warned_max_atoms = 0;
  first_warned_step = -1;
  pvector[0] = pvector[1] = 0.0;
}

void PairGlassCeramic::allocate()
{
  allocated = 1;
  const int n = atom->ntypes + 1;
  memory->create(setflag, n, n, "pair:setflag");
  memory->create(cutsq, n, n, "pair:cutsq");
  map = new int[n];
  for (int i = 0; i < n; ++i) {
    map[i] = -1;
    for (int j = 0; j < n; ++j) setflag[i][j] = 0;
  }
}

void PairGlassCeramic::settings(int narg, char ** /*arg*/)
{
  if (narg != 0) error->all(FLERR, "Illegal pair_style glassceramic command: it takes no arguments");
}

std::string PairGlassCeramic::read_file(const std::string &path)
{
  std::string text;
  long length = -1;
  if (comm->me == 0) {
    std::ifstream stream(path, std::ios::binary);
    if (stream) {
      std::stringstream buffer;
      buffer << stream.rdbuf();
      text = buffer.str();
      length = static_cast<long>(text.size());
    }
  }
  MPI_Bcast(&length, 1, MPI_LONG, 0, world);
  if (length < 0) error->all(FLERR, "Pair glassceramic: cannot open potential file {}", path);
  text.resize(length);
  MPI_Bcast(text.data(), static_cast<int>(length), MPI_CHAR, 0, world);
  return text;
}

void PairGlassCeramic::coeff(int narg, char **arg)
{
  if (!allocated) allocate();
  const int ntypes = atom->ntypes;
  if (narg != 3 + ntypes)
    error->all(FLERR, "Pair coeff for glassceramic: use pair_coeff * * FILE followed by the element of each of the {} "
                      "atom types (NULL for a type left to another pair style)", ntypes);
  if (strcmp(arg[0], "*") != 0 || strcmp(arg[1], "*") != 0)
    error->all(FLERR, "Pair coeff for glassceramic: the first two arguments must be * *");
  filename = arg[2];
  try {
    model = glassceramic::Model::parse(read_file(filename));
  } catch (const glassceramic::FormatError &problem) {
    error->all(FLERR, "Pair glassceramic: potential file {}: {}", filename, problem.what());
  }
  int count = 0;
  for (int i = 1; i <= ntypes; ++i) {
    const std::string element = arg[2 + i];
    map[i] = -1;
    if (element == "NULL") continue;
    for (size_t e = 0; e < model.elements.size(); ++e)
      if (model.elements[e] == element) map[i] = static_cast<int>(e);
    if (map[i] < 0) {
      std::string known;
      for (const std::string &name : model.elements) known += " " + name;
      error->all(FLERR, "Pair coeff for glassceramic: element {} of atom type {} is not in potential file {}, "
                        "which has{}", element, i, filename, known);
    }
  }
  for (int i = 1; i <= ntypes; ++i)
    for (int j = i; j <= ntypes; ++j) {
      setflag[i][j] = map[i] >= 0 && map[j] >= 0 ? 1 : 0;
      if (setflag[i][j]) ++count;
    }
  if (count == 0) error->all(FLERR, "Pair coeff for glassceramic: no atom type is mapped to an element");
}

void PairGlassCeramic::init_style()
{
  if (strcmp(update->unit_style, "metal") != 0)
    error->all(FLERR, "Pair style glassceramic requires units metal (eV, Angstrom), not units {}",
               update->unit_style);
  if (domain->dimension != 3 || !domain->xperiodic || !domain->yperiodic || !domain->zperiodic)
    error->all(FLERR, "Pair style glassceramic requires a periodic box in x, y and z (boundary p p p)");
  if (force->newton_pair == 0) error->all(FLERR, "Pair style glassceramic requires newton pair on");
  // a type's mass must be that of its element (5 %) and closer to it than to any other element of the file
  if (atom->mass && atom->mass_setflag)
    for (int i = 1; i <= atom->ntypes; ++i) {
      if (map[i] < 0 || !atom->mass_setflag[i]) continue;
      const double mass = atom->mass[i], expected = model.masses[map[i]];
      bool wrong = std::fabs(mass - expected) > MASS_TOLERANCE * expected;
      for (double other : model.masses) wrong |= std::fabs(mass - other) < std::fabs(mass - expected);
      if (wrong)
        error->all(FLERR, "Pair coeff for glassceramic: atom type {} has mass {} but pair_coeff maps it to {} "
                          "(mass {}): give the elements of the atom types in order", i, mass,
                   model.elements[map[i]], expected);
    }
  neighbor->add_request(this, NeighConst::REQ_FULL);
}

double PairGlassCeramic::init_one(int i, int j)
{
  if (setflag[i][j] == 0) error->all(FLERR, "All pair coeffs are not set");
  return model.cutoff;
}

double PairGlassCeramic::memory_usage()
{
  double bytes = Pair::memory_usage();
  bytes += static_cast<double>(neighbours.capacity() * sizeof(glassceramic::Neighbour));
  bytes += static_cast<double>(gradient.capacity() * sizeof(std::array<double, 3>));
  return bytes;
}
