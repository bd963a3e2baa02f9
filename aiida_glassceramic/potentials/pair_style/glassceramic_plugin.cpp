/* Registers pair_style glassceramic with LAMMPS' PLUGIN package (plugin load FILE, or LAMMPS_PLUGIN_PATH). */

#include "pair_glassceramic.h"

#include "lammps.h"

using namespace LAMMPS_NS;

#ifndef GLASSCERAMIC_LAMMPS_VERSION
#define GLASSCERAMIC_LAMMPS_VERSION ""
#endif

// the layout of lammpsplugin_t of LAMMPS' src/PLUGIN/lammpsplugin.h (not installed with the library)
extern "C" {
typedef void *(lammpsplugin_factory1)(void *);
typedef void *(lammpsplugin_factory2)(void *, int, char **);
typedef struct {
  const char *version;
  const char *style;
  const char *name;
  const char *info;
  const char *author;
  union {
    lammpsplugin_factory1 *v1;
    lammpsplugin_factory2 *v2;
  } creator;
  void *handle;
} lammpsplugin_t;
typedef void (*lammpsplugin_regfunc)(lammpsplugin_t *, void *);
}

static Pair *glassceramic_creator(LAMMPS *lmp)
{
  return new PairGlassCeramic(lmp);
}

extern "C" void lammpsplugin_init(void *lmp, void *handle, void *regfunc)
{
  lammpsplugin_t plugin;
  auto register_plugin = (lammpsplugin_regfunc) regfunc;
  plugin.version = GLASSCERAMIC_LAMMPS_VERSION;
  plugin.style = "pair";
  plugin.name = "glassceramic";
  plugin.info = "glassceramic: Behler-Parrinello neural network potential of aiida-glassceramic";
  plugin.author = "The aiida-glassceramic developers";
  plugin.creator.v1 = (lammpsplugin_factory1 *) &glassceramic_creator;
  plugin.handle = handle;
  (*register_plugin)(&plugin, lmp);
}
