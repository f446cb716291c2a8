/* tests/determinism.c - prints golden hashes of a short physics rollout (ant, 16 envs, 60
   steps), a PPO update (hopper, 200 env steps of training) and a BO suggestion (4 points from
   24 observations). Built in several configurations by tests/check_determinism.sh, which
   compares the hashes. The functions are those of the hardening suite. */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include "test.h"
#define HARDENING_NO_SUITE
#include "test_hardening.c"

int main(void) {
    printf("physics %016llx\n", (unsigned long long)hardening_hash_physics(0));
    printf("ppo     %016llx\n", (unsigned long long)hardening_hash_ppo(0));
    printf("bo      %016llx\n", (unsigned long long)hardening_hash_bo());
    return 0;
}
