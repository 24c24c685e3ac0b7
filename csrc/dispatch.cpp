#include <cstdlib>
#include <stdexcept>

#include "kernels.h"

namespace cleancut {

#define CLEANCUT_KERNEL_TABLE(ns) \
  Kernels { #ns, ns::prepare_rows, ns::normalise, ns::fuse_side_maps, ns::upsample_mask, ns::compose, ns::morphology, ns::gaussian_blur, ns::png_filter_up, \
          ns::estimate_foreground, ns::estimate_foreground_ml, ns::guided_filter }

static const Kernels kScalarKernels = CLEANCUT_KERNEL_TABLE(scalar);
#ifdef CLEANCUT_X86
static const Kernels kAvx2Kernels = CLEANCUT_KERNEL_TABLE(avx2);
static const Kernels kAvx512Kernels = CLEANCUT_KERNEL_TABLE(avx512);
#endif
#ifdef CLEANCUT_NEON
static const Kernels kNeonKernels = CLEANCUT_KERNEL_TABLE(neon);
#endif

std::vector<const Kernels*> supported_kernels() {
  std::vector<const Kernels*> tables{&kScalarKernels};
#ifdef CLEANCUT_X86
  // libgcc's cpu model also checks that the OS saves the wider registers (XGETBV).
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    tables.push_back(&kAvx2Kernels);
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
      tables.push_back(&kAvx512Kernels);
    }
  }
#endif
#ifdef CLEANCUT_NEON
  tables.push_back(&kNeonKernels);  // every AArch64 CPU has NEON
#endif
  return tables;
}

const Kernels* find_kernels(const std::string& isa) {
  for (const Kernels* table : supported_kernels()) {
    if (isa == table->isa) return table;
  }
  return nullptr;
}

static const Kernels& choose_kernels() {
  const char* forced = std::getenv("CLEANCUT_FORCE_ISA");
  if (forced != nullptr && *forced != '\0') {
    const Kernels* table = find_kernels(forced);
    if (table == nullptr) {
      throw std::runtime_error(std::string("CLEANCUT_FORCE_ISA=") + forced +
                               " is not available on this CPU/build; use one of cleancut.capabilities()['available']");
    }
    return *table;
  }
  return *supported_kernels().back();
}

const Kernels& active_kernels() {
  static const Kernels& table = choose_kernels();
  return table;
}

}  // namespace cleancut
