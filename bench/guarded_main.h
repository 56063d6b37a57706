// main() of every benchmark program: runs its real main and turns an
// exception that escapes it into one line on stderr and exit status 1,
// instead of std::terminate's abort.
#pragma once

#include <cstdio>
#include <exception>

namespace cdrd::bench {

template <typename Run>
int guarded_main(const char* program, Run run, int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: fatal: %s\n", program, e.what());
  } catch (...) {
    std::fprintf(stderr, "%s: fatal: unknown exception\n", program);
  }
  return 1;
}

}  // namespace cdrd::bench
