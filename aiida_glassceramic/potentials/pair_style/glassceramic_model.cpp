/* Behler-Parrinello neural network potential of aiida-glassceramic: file parser and per-atom energy and gradient.

   Features (per centre atom, n2p2 conventions, see aiida_glassceramic.descriptors.parameters):
     radial G2 per neighbour element e:  sum_j exp(-eta (r_ij - rs)^2) fc(r_ij)
     angular per neighbour-element pair (a <= b), each unordered neighbour pair (j, k) once:
       2^(1-zeta) (1 + lambda cos theta_ijk)^zeta exp(-eta [(r_ij-rs)^2 + (r_ik-rs)^2 (+ (r_jk-rs)^2)]) fc fc (fc)
   Wide functions with integer zeta <= 8 are summed from per-centre moments M_e[alpha] = sum_j w(r_ij) u_ij^alpha
   (linear in the pairs); the others over triplets. Energy = reference + MLP((G - shift) / scale). */

#include "glassceramic_model.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

// the hot loops also as AVX2 + FMA code, chosen at run time where the CPU has them
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define GLASSCERAMIC_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define GLASSCERAMIC_VECTOR_CLONES
#endif

namespace glassceramic {

namespace {

constexpr int MAX_MOMENT_ZETA = 8;
constexpr double PI = 3.14159265358979323846;

// the non-empty, non-comment lines of a file as words, with their line numbers
class Reader {
 public:
  explicit Reader(const std::string &text)
  {
    std::istringstream stream(text);
    std::string line;
    int number = 0;
    while (std::getline(stream, line)) {
      ++number;
      std::istringstream words(line);
      std::vector<std::string> tokens;
      std::string word;
      while (words >> word) tokens.push_back(word);
      if (tokens.empty() || tokens[0][0] == '#') continue;
      lines_.push_back(tokens);
      numbers_.push_back(number);
    }
  }

  // the next line; its first word must be `keyword` (none: a line of numbers) and it must hold `count` values
  std::vector<std::string> next(const std::string &keyword, int count = -1)
  {
    if (pos_ >= lines_.size())
      throw FormatError("ends early (truncated?): expected '" + (keyword.empty() ? "numbers" : keyword) + "'");
    std::vector<std::string> tokens = lines_[pos_++];
    if (!keyword.empty()) {
      if (tokens[0] != keyword) fail("expected '" + keyword + "', found '" + tokens[0] + "'");
      tokens.erase(tokens.begin());
    }
    if (count >= 0 && static_cast<int>(tokens.size()) != count)
      fail("expected " + std::to_string(count) + " values, found " + std::to_string(tokens.size()));
    return tokens;
  }

  // `infinite`: inf and -inf allowed too
  std::vector<double> numbers(const std::string &keyword, int count, bool infinite = false)
  {
    std::vector<double> values;
    for (const std::string &token : next(keyword, count)) values.push_back(number(token, infinite));
    return values;
  }

  double number(const std::string &token, bool infinite = false)
  {
    char *end = nullptr;
    double value = std::strtod(token.c_str(), &end);
    if (end == token.c_str() || *end != '\0' || std::isnan(value) || (!infinite && std::isinf(value)))
      fail("'" + token + "' is not a finite number");
    return value;
  }

  int integer(const std::string &token)
  {
    double value = number(token);
    if (value != std::floor(value) || value < 0 || value > 1e6) fail("'" + token + "' is not a count");
    return static_cast<int>(value);
  }

  bool done() const { return pos_ >= lines_.size(); }

  [[noreturn]] void fail(const std::string &message) const
  {
    int line = numbers_.empty() ? 0 : numbers_[pos_ == 0 ? 0 : pos_ - 1];
    throw FormatError("line " + std::to_string(line) + ": " + message);
  }

 private:
  std::vector<std::vector<std::string>> lines_;
  std::vector<int> numbers_;
  size_t pos_ = 0;
};

double int_power(double base, int exponent)
{
  double value = 1.0;
  for (int i = 0; i < exponent; ++i) value *= base;
  return value;
}

double factorial(int n) { return n <= 1 ? 1.0 : n * factorial(n - 1); }

}    // namespace

Model Model::parse(const std::string &text)
{
  Reader reader(text);
  Model model;
  std::vector<std::string> header = reader.next("glassceramic_potential", 1);
  const int version = reader.integer(header[0]);
  if (version < 1 || version > FORMAT_VERSION)
    reader.fail("format version " + header[0] + "; this pair style reads versions 1 to " +
                std::to_string(FORMAT_VERSION) + ": export the potential again with this package's version");
  std::vector<std::string> elements = reader.next("elements");
  if (elements.empty() || reader.integer(elements[0]) != static_cast<int>(elements.size()) - 1 ||
      elements.size() < 2)
    reader.fail("'elements' needs a count and that many element symbols");
  model.elements.assign(elements.begin() + 1, elements.end());
  model.n_elements_ = static_cast<int>(model.elements.size());
  model.masses = reader.numbers("masses", model.n_elements_);
  model.cutoff = reader.number(reader.next("cutoff", 1)[0]);
  if (model.cutoff <= 0) reader.fail("cutoff must be positive");
  std::string function = reader.next("cutoff_function", 1)[0];
  if (function != "cos" && function != "poly2") reader.fail("cutoff_function '" + function + "': use cos or poly2");
  model.poly2 = function == "poly2";
  int n_radial = reader.integer(reader.next("radial", 1)[0]);
  for (int k = 0; k < n_radial; ++k) {
    std::vector<double> values = reader.numbers("", 2);
    model.radial_eta_.push_back(values[0]);
    model.radial_rs_.push_back(values[1]);
  }
  int n_angular = reader.integer(reader.next("angular", 1)[0]);
  for (int k = 0; k < n_angular; ++k) {
    std::vector<std::string> tokens = reader.next("", 5);
    AngularFunction f{reader.number(tokens[0]), reader.number(tokens[1]), reader.number(tokens[2]),
                      reader.number(tokens[3]), tokens[4] == "narrow", false, -1, -1};
    if (tokens[4] != "narrow" && tokens[4] != "wide") reader.fail("angular kind '" + tokens[4] + "': narrow or wide");
    if (f.zeta < 1 || (f.lambda != 1.0 && f.lambda != -1.0)) reader.fail("angular: zeta >= 1 and lambda +-1");
    model.angular_.push_back(f);
  }
  const std::string activation = reader.next("activation", 1)[0];
  if (activation == "tanh") model.activation_ = Activation::tanh;
  else if (activation == "softplus") model.activation_ = Activation::softplus;
  else if (activation == "silu") model.activation_ = Activation::silu;
  else reader.fail("activation '" + activation + "': tanh, softplus or silu");
  std::vector<std::string> hidden = reader.next("hidden");
  if (hidden.empty() || reader.integer(hidden[0]) != static_cast<int>(hidden.size()) - 1)
    reader.fail("'hidden' needs a count and that many layer widths");
  std::vector<int> sizes;
  model.setup();
  sizes.push_back(model.n_features_);
  for (size_t l = 1; l < hidden.size(); ++l) sizes.push_back(reader.integer(hidden[l]));
  sizes.push_back(1);
  model.reference_energy_ = reader.numbers("reference_energy", model.n_elements_);
  if (version >= 2) {
    const std::string ranges = reader.next("feature_ranges", 1)[0];
    if (ranges != "yes" && ranges != "no") reader.fail("feature_ranges '" + ranges + "': yes or no");
    model.has_ranges = ranges == "yes";
  }
  for (int e = 0; e < model.n_elements_; ++e) {
    std::vector<std::string> name = reader.next("network", 1);
    if (name[0] != model.elements[e]) reader.fail("network '" + name[0] + "', expected " + model.elements[e]);
    Network network;
    network.shift = reader.numbers("shift", model.n_features_);
    network.scale = reader.numbers("scale", model.n_features_);
    for (double scale : network.scale)
      if (scale == 0.0) reader.fail("a feature scale is zero");
    if (model.has_ranges) {
      // an element absent from the training data has the empty range [inf, -inf]: all its atoms extrapolate
      const std::vector<double> minimum = reader.numbers("minimum", model.n_features_, true);
      const std::vector<double> maximum = reader.numbers("maximum", model.n_features_, true);
      for (int k = 0; k < model.n_features_; ++k) {
        if (!(minimum[k] <= maximum[k] || (minimum[k] == HUGE_VAL && maximum[k] == -HUGE_VAL)))
          reader.fail("feature " + std::to_string(k + 1) + ": minimum above maximum");
        const double margin = RANGE_TOLERANCE * (maximum[k] - minimum[k]) + RANGE_FLOOR;
        network.lower.push_back(minimum[k] - margin);
        network.upper.push_back(maximum[k] + margin);
      }
    }
    for (size_t l = 0; l + 1 < sizes.size(); ++l) {
      std::vector<std::string> shape = reader.next("layer", 3);
      Layer layer{sizes[l + 1], sizes[l], {}, {}};
      if (reader.integer(shape[0]) != static_cast<int>(l) + 1 || reader.integer(shape[1]) != layer.out ||
          reader.integer(shape[2]) != layer.in)
        reader.fail("expected layer " + std::to_string(l + 1) + " " + std::to_string(layer.out) + " " +
                    std::to_string(layer.in));
      for (int row = 0; row < layer.out; ++row) {
        std::vector<double> values = reader.numbers("", layer.in);
        layer.weight.insert(layer.weight.end(), values.begin(), values.end());
      }
      layer.bias = reader.numbers("bias", layer.out);
      network.layers.push_back(layer);
    }
    model.networks_.push_back(network);
  }
  reader.next("end", 0);
  if (!reader.done()) reader.fail("content after 'end'");
  return model;
}

bool Model::extrapolates(int centre, const Workspace &work) const
{
  const Network &net = networks_[centre];
  for (int k = 0; k < n_features_; ++k)
    if (work.features[k] < net.lower[k] || work.features[k] > net.upper[k]) return true;
  return false;
}

void Model::setup()
{
  const int n = n_elements_;
  pair_index_.assign(n * n, -1);
  for (int a = 0; a < n; ++a)
    for (int b = a; b < n; ++b) {
      pair_index_[a * n + b] = pair_index_[b * n + a] = static_cast<int>(pair_first_.size());
      pair_first_.push_back(a);
      pair_second_.push_back(b);
    }
  n_pairs_ = static_cast<int>(pair_first_.size());
  n_features_ = n * static_cast<int>(radial_eta_.size()) + n_pairs_ * static_cast<int>(angular_.size());
  std::set<std::pair<double, double>> widths;
  std::set<std::pair<int, double>> shapes;
  for (AngularFunction &f : angular_) {
    f.separable = !f.narrow && f.zeta == std::floor(f.zeta) && f.zeta <= MAX_MOMENT_ZETA;
    if (f.separable) {
      widths.insert({f.eta, f.rs});
      shapes.insert({static_cast<int>(f.zeta), f.lambda});
    } else {
      has_triplets_ = true;
    }
  }
  std::vector<std::pair<double, double>> width_list(widths.begin(), widths.end());
  std::vector<std::pair<int, double>> shape_list(shapes.begin(), shapes.end());
  for (const auto &[eta, rs] : width_list) {
    width_eta_.push_back(eta);
    width_rs_.push_back(rs);
  }
  n_shapes_ = static_cast<int>(shape_list.size());
  for (const auto &[zeta, lambda] : shape_list) degree_ = std::max(degree_, zeta);
  for (int d = 0; d <= degree_; ++d)
    for (int a = d; a >= 0; --a)
      for (int b = d - a; b >= 0; --b) {
        exponents_.push_back({a, b, d - a - b});
        monomial_degree_.push_back(d);
        multinomial_.push_back(factorial(d) / (factorial(a) * factorial(b) * factorial(d - a - b)));
      }
  // d(u^alpha)/du_c = alpha_c u^(alpha - e_c): over the lower monomials beta, the index of beta + e_c
  for (int m = 0; m < static_cast<int>(exponents_.size()); ++m)
    if (monomial_degree_[m] < degree_) n_lower_ = m + 1;
  steps_.assign(3 * n_lower_, 0);
  for (int c = 0; c < 3; ++c)
    for (int b = 0; b < n_lower_; ++b) {
      std::array<int, 3> raised = exponents_[b];
      ++raised[c];
      for (size_t m = 0; m < exponents_.size(); ++m)
        if (exponents_[m] == raised) steps_[c * n_lower_ + b] = static_cast<int>(m);
    }
  expansion_.assign((degree_ + 1) * n_shapes_, 0.0);
  diagonal_.assign(n_shapes_, 0.0);
  for (int s = 0; s < n_shapes_; ++s) {
    const auto [zeta, lambda] = shape_list[s];
    for (int d = 0; d <= zeta; ++d) {
      double value = std::pow(2.0, 1 - zeta) * factorial(zeta) / (factorial(d) * factorial(zeta - d)) *
                     int_power(lambda, d);
      expansion_[d * n_shapes_ + s] = value;
      diagonal_[s] += value;
    }
  }
  for (AngularFunction &f : angular_) {
    if (!f.separable) continue;
    for (size_t w = 0; w < width_list.size(); ++w)
      if (width_list[w] == std::make_pair(f.eta, f.rs)) f.width = static_cast<int>(w);
    for (size_t s = 0; s < shape_list.size(); ++s)
      if (shape_list[s] == std::make_pair(static_cast<int>(f.zeta), f.lambda)) f.shape = static_cast<int>(s);
  }
}

double Model::cutoff_function(double r, double &derivative) const
{
  if (r >= cutoff) {
    derivative = 0.0;
    return 0.0;
  }
  if (poly2) {
    const double x = r / cutoff;
    derivative = (3.0 * x * x * (x * (15.0 - 6.0 * x) - 10.0) + x * x * x * (15.0 - 12.0 * x)) / cutoff;
    return 1.0 + x * x * x * (x * (15.0 - 6.0 * x) - 10.0);
  }
  double sine, cosine;
  sincos(r * (PI / cutoff), &sine, &cosine);
  derivative = -0.5 * PI / cutoff * sine;
  return 0.5 * cosine + 0.5;
}

GLASSCERAMIC_VECTOR_CLONES
void Model::monomials(const double *u, double *values) const
{
  double powers[3][MAX_MOMENT_ZETA + 1];
  for (int c = 0; c < 3; ++c) {
    powers[c][0] = 1.0;
    for (int d = 1; d <= degree_; ++d) powers[c][d] = powers[c][d - 1] * u[c];
  }
  for (size_t m = 0; m < exponents_.size(); ++m) {
    const auto &[a, b, c] = exponents_[m];
    values[m] = powers[0][a] * powers[1][b] * powers[2][c];
  }
}

GLASSCERAMIC_VECTOR_CLONES
double Model::network(int element, Workspace &work) const
{
  const Network &net = networks_[element];
  const size_t n_layers = net.layers.size();
  work.inputs.resize(n_layers);
  work.slopes.resize(n_layers);
  std::vector<double> &input = work.inputs[0];
  input.resize(n_features_);
  for (int k = 0; k < n_features_; ++k) input[k] = (work.features[k] - net.shift[k]) / net.scale[k];
  double output = 0.0;
  for (size_t l = 0; l < n_layers; ++l) {
    const Layer &layer = net.layers[l];
    const std::vector<double> &x = work.inputs[l];
    const bool last = l + 1 == n_layers;
    std::vector<double> *next = last ? nullptr : &work.inputs[l + 1];
    if (next) next->resize(layer.out);
    work.slopes[l].resize(layer.out);
    for (int o = 0; o < layer.out; ++o) {
      const double *w = &layer.weight[o * layer.in];
      double z = layer.bias[o];
#pragma omp simd reduction(+ : z)
      for (int k = 0; k < layer.in; ++k) z += w[k] * x[k];
      if (last) {
        output = z;
        continue;
      }
      double y, slope;
      if (activation_ == Activation::tanh) {
        y = std::tanh(z);
        slope = 1.0 - y * y;
      } else if (activation_ == Activation::softplus) {    // torch.nn.Softplus: beta 1, linear above 20
        y = z > 20.0 ? z : std::log1p(std::exp(z));
        slope = z > 20.0 ? 1.0 : 1.0 / (1.0 + std::exp(-z));
      } else {    // silu
        const double sigmoid = 1.0 / (1.0 + std::exp(-z));
        y = z * sigmoid;
        slope = sigmoid * (1.0 + z * (1.0 - sigmoid));
      }
      (*next)[o] = y;
      work.slopes[l][o] = slope;
    }
  }
  // backward: gradient of the output over the layer inputs, down to the raw features
  std::vector<double> &grad = work.grad_layer, &below = work.grad_below;
  grad.assign(1, 1.0);
  for (size_t l = n_layers; l-- > 0;) {
    const Layer &layer = net.layers[l];
    if (l + 1 < n_layers)
      for (int o = 0; o < layer.out; ++o) grad[o] *= work.slopes[l][o];
    below.assign(layer.in, 0.0);
    for (int o = 0; o < layer.out; ++o) {
      const double *w = &layer.weight[o * layer.in];
      for (int k = 0; k < layer.in; ++k) below[k] += grad[o] * w[k];
    }
    grad.swap(below);
  }
  work.grad_features.resize(n_features_);
  for (int k = 0; k < n_features_; ++k) work.grad_features[k] = grad[k] / net.scale[k];
  return output;
}

void Model::triplets(const std::vector<Neighbour> &neighbours, const Workspace &work, double *features,
                     std::vector<std::array<double, 3>> *grad) const
{
  const int n = static_cast<int>(neighbours.size());
  const int n_angular = static_cast<int>(angular_.size());
  const int offset = n_elements_ * static_cast<int>(radial_eta_.size());
  const double *grad_features = work.grad_features.data();
  for (int j = 0; j < n; ++j) {
    const double *vj = neighbours[j].v.data();
    const double rj = work.r[j], fcj = work.fc[j], dfcj = work.dfc[j];
    for (int k = j + 1; k < n; ++k) {
      const double *vk = neighbours[k].v.data();
      const double rk = work.r[k], fck = work.fc[k], dfck = work.dfc[k];
      const int column = offset + pair_index_[neighbours[j].element * n_elements_ + neighbours[k].element] * n_angular;
      const double dot = vj[0] * vk[0] + vj[1] * vk[1] + vj[2] * vk[2];
      const double cosine = dot / (rj * rk);
      const double d[3] = {vk[0] - vj[0], vk[1] - vj[1], vk[2] - vj[2]};
      const double rjk = std::sqrt(std::max(d[0] * d[0] + d[1] * d[1] + d[2] * d[2], 1e-24));
      double dfcjk;
      const double fcjk = cutoff_function(rjk, dfcjk);
      double d_cos = 0.0, d_rj = 0.0, d_rk = 0.0, d_rjk = 0.0;
      for (int a = 0; a < n_angular; ++a) {
        const AngularFunction &f = angular_[a];
        if (f.separable || (f.narrow && fcjk == 0.0)) continue;
        const double g = grad ? grad_features[column + a] : 0.0;
        if (grad && g == 0.0) continue;
        const double base = 1.0 + f.lambda * cosine;
        const bool integer = f.zeta == std::floor(f.zeta) && f.zeta <= 64;
        // a collinear triplet may round its base to just below 0: real exponents take it as 0, as the torch model
        const double power =
            integer ? int_power(base, static_cast<int>(f.zeta)) : std::pow(std::max(base, 0.0), f.zeta);
        double exponent = (rj - f.rs) * (rj - f.rs) + (rk - f.rs) * (rk - f.rs);
        double fcs = fcj * fck;
        if (f.narrow) {
          exponent += (rjk - f.rs) * (rjk - f.rs);
          fcs *= fcjk;
        }
        const double gauss = std::exp(-f.eta * exponent);
        const double prefactor = std::pow(2.0, 1.0 - f.zeta);
        if (!grad) {
          features[column + a] += prefactor * power * gauss * fcs;
          continue;
        }
        const double d_power = f.zeta * (integer ? int_power(base, static_cast<int>(f.zeta) - 1)
                                                 : std::pow(std::max(base, 0.0), f.zeta - 1.0));
        const double common = g * prefactor * gauss;
        d_cos += common * d_power * f.lambda * fcs;
        const double fc_jk = f.narrow ? fcjk : 1.0;
        d_rj += common * power * (-2.0 * f.eta * (rj - f.rs) * fcs + dfcj * fck * fc_jk);
        d_rk += common * power * (-2.0 * f.eta * (rk - f.rs) * fcs + fcj * dfck * fc_jk);
        if (f.narrow) d_rjk += common * power * (-2.0 * f.eta * (rjk - f.rs) * fcs + fcj * fck * dfcjk);
      }
      if (!grad) continue;
      std::array<double, 3> &gj = (*grad)[j], &gk = (*grad)[k];
      for (int c = 0; c < 3; ++c) {
        gj[c] += d_cos * (vk[c] / (rj * rk) - cosine * vj[c] / (rj * rj)) + d_rj * vj[c] / rj - d_rjk * d[c] / rjk;
        gk[c] += d_cos * (vj[c] / (rj * rk) - cosine * vk[c] / (rk * rk)) + d_rk * vk[c] / rk + d_rjk * d[c] / rjk;
      }
    }
  }
}

GLASSCERAMIC_VECTOR_CLONES
double Model::energy(int centre, const std::vector<Neighbour> &neighbours, std::vector<std::array<double, 3>> &grad,
                     Workspace &work) const
{
  const int n = static_cast<int>(neighbours.size());
  const int n_radial = static_cast<int>(radial_eta_.size()), n_angular = static_cast<int>(angular_.size());
  const int n_widths = static_cast<int>(width_eta_.size()), n_monomials = static_cast<int>(exponents_.size());
  const int offset = n_elements_ * n_radial;
  const int n_gauss = n_radial + n_widths;
  std::vector<double> &features = work.features;
  features.assign(n_features_, 0.0);
  work.r.resize(n);
  work.fc.resize(n);
  work.dfc.resize(n);
  work.gauss.resize(static_cast<size_t>(n) * n_gauss);
  work.monomials.resize(static_cast<size_t>(n) * n_monomials);
  work.moments.assign(n_elements_ * n_widths * n_monomials, 0.0);
  work.squares.assign(n_elements_ * n_widths, 0.0);

  for (int j = 0; j < n; ++j) {
    const double *v = neighbours[j].v.data();
    const int e = neighbours[j].element;
    const double r = std::sqrt(std::max(v[0] * v[0] + v[1] * v[1] + v[2] * v[2], 1e-24));
    const double fc = cutoff_function(r, work.dfc[j]);
    double *gauss = &work.gauss[static_cast<size_t>(j) * n_gauss];
    work.r[j] = r;
    work.fc[j] = fc;
    for (int k = 0; k < n_radial; ++k) {
      gauss[k] = std::exp(-radial_eta_[k] * (r - radial_rs_[k]) * (r - radial_rs_[k]));
      features[e * n_radial + k] += gauss[k] * fc;
    }
    if (!n_widths) continue;
    const double u[3] = {v[0] / r, v[1] / r, v[2] / r};
    double *values = &work.monomials[static_cast<size_t>(j) * n_monomials];
    monomials(u, values);
    for (int w = 0; w < n_widths; ++w) {
      gauss[n_radial + w] = std::exp(-width_eta_[w] * (r - width_rs_[w]) * (r - width_rs_[w]));
      const double weight = gauss[n_radial + w] * fc;
      double *moment = &work.moments[(e * n_widths + w) * n_monomials];
      for (int m = 0; m < n_monomials; ++m) moment[m] += weight * values[m];
      work.squares[e * n_widths + w] += weight * weight;
    }
  }

  // separable angular functions from the moments: P_n = sum_{|alpha| = n} n!/alpha! M_a[alpha] M_b[alpha]
  std::vector<double> &products = work.products;
  products.resize(degree_ + 1);
  for (int p = 0; p < n_pairs_; ++p) {
    const int a = pair_first_[p], b = pair_second_[p];
    for (int w = 0; w < n_widths; ++w) {
      const double *ma = &work.moments[(a * n_widths + w) * n_monomials];
      const double *mb = &work.moments[(b * n_widths + w) * n_monomials];
      std::fill(products.begin(), products.end(), 0.0);
      for (int m = 0; m < n_monomials; ++m) products[monomial_degree_[m]] += multinomial_[m] * ma[m] * mb[m];
      for (int f = 0; f < n_angular; ++f) {
        if (!angular_[f].separable || angular_[f].width != w) continue;
        const int s = angular_[f].shape;
        double full = 0.0;
        for (int d = 0; d <= degree_; ++d) full += expansion_[d * n_shapes_ + s] * products[d];
        // same elements: each unordered pair j != k once
        features[offset + p * n_angular + f] =
            a == b ? 0.5 * full - 0.5 * work.squares[a * n_widths + w] * diagonal_[s] : full;
      }
    }
  }
  if (has_triplets_) triplets(neighbours, work, features.data(), nullptr);

  const double energy = reference_energy_[centre] + network(centre, work);
  const double *grad_features = work.grad_features.data();

  // backward through the moments
  work.grad_moments.assign(work.moments.size(), 0.0);
  work.grad_squares.assign(work.squares.size(), 0.0);
  std::vector<double> &grad_products = work.grad_products;
  grad_products.resize(degree_ + 1);
  for (int p = 0; p < n_pairs_; ++p) {
    const int a = pair_first_[p], b = pair_second_[p];
    for (int w = 0; w < n_widths; ++w) {
      std::fill(grad_products.begin(), grad_products.end(), 0.0);
      for (int f = 0; f < n_angular; ++f) {
        if (!angular_[f].separable || angular_[f].width != w) continue;
        const int s = angular_[f].shape;
        const double g = grad_features[offset + p * n_angular + f];
        for (int d = 0; d <= degree_; ++d) grad_products[d] += (a == b ? 0.5 : 1.0) * g * expansion_[d * n_shapes_ + s];
        if (a == b) work.grad_squares[a * n_widths + w] -= 0.5 * g * diagonal_[s];
      }
      const double *ma = &work.moments[(a * n_widths + w) * n_monomials];
      const double *mb = &work.moments[(b * n_widths + w) * n_monomials];
      double *ga = &work.grad_moments[(a * n_widths + w) * n_monomials];
      double *gb = &work.grad_moments[(b * n_widths + w) * n_monomials];
      for (int m = 0; m < n_monomials; ++m) {
        const double c = grad_products[monomial_degree_[m]] * multinomial_[m];
        ga[m] += c * mb[m];
        gb[m] += c * ma[m];
      }
    }
  }

  // gradient of sum_alpha G[alpha] u^alpha over u, as coefficients of the lower monomials, per element and width
  work.grad_lower.assign(static_cast<size_t>(n_elements_) * n_widths * 3 * n_lower_, 0.0);
  for (int ew = 0; ew < n_elements_ * n_widths; ++ew) {
    const double *gm = &work.grad_moments[ew * n_monomials];
    double *lower = &work.grad_lower[static_cast<size_t>(ew) * 3 * n_lower_];
    for (int c = 0; c < 3; ++c)
      for (int b = 0; b < n_lower_; ++b) {
        const int raised = steps_[c * n_lower_ + b];
        lower[c * n_lower_ + b] = exponents_[raised][c] * gm[raised];
      }
  }

  // per neighbour: dE/dr and dE/du, then dE/dv = dE/dr u + (dE/du - (dE/du . u) u) / r
  grad.assign(n, {0.0, 0.0, 0.0});
  for (int j = 0; j < n; ++j) {
    const double *v = neighbours[j].v.data();
    const int e = neighbours[j].element;
    const double r = work.r[j], fc = work.fc[j], dfc = work.dfc[j];
    const double *gauss = &work.gauss[static_cast<size_t>(j) * n_gauss];
    double d_r = 0.0, d_u[3] = {0.0, 0.0, 0.0};
    for (int k = 0; k < n_radial; ++k)
      d_r += grad_features[e * n_radial + k] * gauss[k] * (-2.0 * radial_eta_[k] * (r - radial_rs_[k]) * fc + dfc);
    const double *values = &work.monomials[static_cast<size_t>(j) * n_monomials];
    for (int w = 0; w < n_widths; ++w) {
      const double weight = gauss[n_radial + w] * fc;
      const double *gm = &work.grad_moments[(e * n_widths + w) * n_monomials];
      const double *lower = &work.grad_lower[static_cast<size_t>(e * n_widths + w) * 3 * n_lower_];
      double d_weight = 2.0 * weight * work.grad_squares[e * n_widths + w];
#pragma omp simd reduction(+ : d_weight)
      for (int m = 0; m < n_monomials; ++m) d_weight += gm[m] * values[m];
      double du0 = 0.0, du1 = 0.0, du2 = 0.0;
#pragma omp simd reduction(+ : du0, du1, du2)
      for (int b = 0; b < n_lower_; ++b) {
        du0 += lower[b] * values[b];
        du1 += lower[n_lower_ + b] * values[b];
        du2 += lower[2 * n_lower_ + b] * values[b];
      }
      d_r += d_weight * gauss[n_radial + w] * (-2.0 * width_eta_[w] * (r - width_rs_[w]) * fc + dfc);
      d_u[0] += weight * du0;
      d_u[1] += weight * du1;
      d_u[2] += weight * du2;
    }
    const double u[3] = {v[0] / r, v[1] / r, v[2] / r};
    const double radial_part = d_u[0] * u[0] + d_u[1] * u[1] + d_u[2] * u[2];
    for (int c = 0; c < 3; ++c) grad[j][c] = d_r * u[c] + (d_u[c] - radial_part * u[c]) / r;
  }
  if (has_triplets_) triplets(neighbours, work, nullptr, &grad);
  return energy;
}

}    // namespace glassceramic
