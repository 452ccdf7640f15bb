#include "flgen.h"
bool matrix_known(const char *kind) { (void)kind; return false; }
void matrix_kinds(FILE *f) { (void)f; }
void matrix_run(const char *kind, uint64_t seed, const char *pcap, const char *tsv) { (void)kind; (void)seed; (void)pcap; (void)tsv; }
