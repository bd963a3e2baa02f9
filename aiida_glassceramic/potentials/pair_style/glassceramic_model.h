/* Behler-Parrinello neural network potential of aiida-glassceramic: the potential file and the energy of one
   atom with the gradient over its neighbour vectors. Mirrors aiida_glassceramic.descriptors.features and
   aiida_glassceramic.potentials.model (the definition); the file format is described in docs/potential.md. */

#ifndef GLASSCERAMIC_MODEL_H
#define GLASSCERAMIC_MODEL_H

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

namespace glassceramic {

constexpr int FORMAT_VERSION = 2;      // 2 adds the training range of every feature; 1 is read too
// a feature extrapolates beyond RANGE_TOLERANCE (max - min) + RANGE_FLOOR outside its training range [min, max]
constexpr double RANGE_TOLERANCE = 1e-6, RANGE_FLOOR = 1e-10;

class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Neighbour {
  int element;                 // index into Model::elements
  std::array<double, 3> v;     // r_j - r_i (A)
};

struct Layer {
  int out, in;
  std::vector<double> weight;    // out x in, row major
  std::vector<double> bias;      // out
};

struct Network {
  std::vector<double> shift, scale;    // per feature
  std::vector<double> lower, upper;    // per feature: training range widened as RANGE_TOLERANCE says
  std::vector<Layer> layers;
};

struct AngularFunction {
  double eta, zeta, lambda, rs;
  bool narrow;
  bool separable;    // wide with integer zeta <= MAX_MOMENT_ZETA: summed from moments
  int width, shape;  // separable: indices into the width and shape grids
};

// per-call work arrays, reused between atoms
struct Workspace {
  std::vector<double> features, grad_features;
  std::vector<std::vector<double>> inputs, slopes;    // per layer: its input and the activation's derivative
  std::vector<double> r, fc, dfc;                     // per neighbour
  std::vector<double> gauss, monomials;               // per neighbour: Gaussians (radial, widths), u^alpha
  std::vector<double> moments, squares, grad_moments, grad_squares, grad_lower;
  std::vector<double> products, grad_products, grad_layer, grad_below;
};

class Model {
 public:
  static Model parse(const std::string &text);

  std::vector<std::string> elements;
  std::vector<double> masses;
  double cutoff = 0.0;
  bool poly2 = false;

  bool has_ranges = false;    // the file records the training range of every feature (format version 2)

  int n_features() const { return n_features_; }
  // energy of an atom of element `centre` (eV); grad[n] = dE/dv_n of each neighbour vector
  double energy(int centre, const std::vector<Neighbour> &neighbours, std::vector<std::array<double, 3>> &grad,
                Workspace &work) const;
  // after energy(): whether a feature of that atom lies outside its element's training range (n2p2's
  // extrapolation warning); needs has_ranges
  bool extrapolates(int centre, const Workspace &work) const;

 private:
  int n_elements_ = 0, n_pairs_ = 0, n_features_ = 0;
  std::vector<double> radial_eta_, radial_rs_;
  std::vector<AngularFunction> angular_;
  std::vector<int> pair_index_;    // n_elements x n_elements -> element pair (a <= b)
  std::vector<int> pair_first_, pair_second_;
  enum class Activation { tanh, softplus, silu } activation_ = Activation::tanh;
  std::vector<double> reference_energy_;
  std::vector<Network> networks_;
  // moment expansion of the separable angular functions
  int degree_ = 0;
  std::vector<double> width_eta_, width_rs_;
  std::vector<std::array<int, 3>> exponents_;    // monomials u^alpha, by degree
  int n_lower_ = 0;                               // monomials of degree < degree_: the first n_lower_
  std::vector<int> steps_;                        // 3 x n_lower: index of beta + e_axis
  std::vector<int> monomial_degree_;
  std::vector<double> multinomial_;               // n! / alpha!
  std::vector<double> expansion_;                 // (degree + 1) x shapes: 2^(1-zeta) C(zeta, n) lambda^n
  std::vector<double> diagonal_;                  // per shape: sum over n of expansion
  int n_shapes_ = 0;
  bool has_triplets_ = false;

  void setup();
  double cutoff_function(double r, double &derivative) const;
  double network(int element, Workspace &work) const;
  void monomials(const double *u, double *values) const;
  // triplet-summed angular functions: added to `features` (forward) or, with `grad`, their gradient
  void triplets(const std::vector<Neighbour> &neighbours, const Workspace &work, double *features,
                std::vector<std::array<double, 3>> *grad) const;
};

}    // namespace glassceramic

#endif
