/* SPDX-License-Identifier: MIT
 * agentcredit command-line tool: entry point, --help, --version. */
#include "cli.h"

#include <string.h>

static void usage(FILE *f)
{
    fputs(
        "Usage: agentcredit COMMAND [OPTIONS]\n"
        "\n"
        "Credit for the agents of a multi-LLM-agent team: Shapley values over\n"
        "coalitions of agents, with standard errors, a budget of oracle calls\n"
        "and exact conservation (the credits add up to v(all) - v(empty)).\n"
        "\n"
        "Commands:\n"
        "  demo [--seed N] [--repeats N]\n"
        "        A built-in simulated team of four agents (a carrier, a helper,\n"
        "        a redundant agent and a saboteur); each oracle call is one\n"
        "        simulated rollout. Prints the credits, their standard errors,\n"
        "        the conservation check and the audit record.\n"
        "  shapley GAME.json [OPTIONS]\n"
        "        Estimates the Shapley values of a game file (see\n"
        "        docs/estimators.md for the format) through its oracle.\n"
        "        --method auto|exact|permutation|kernelshap|adaptive|oddshap\n"
        "                                                (default auto)\n"
        "        --budget N      hard cap on oracle evaluations (default 2048)\n"
        "        --seed N        seed of the estimator and of the game's noise\n"
        "        --repeats N     evaluations of each coalition (noisy games)\n"
        "        --batch N       coalitions per oracle call (default 64)\n"
        "        --noisy 0|1     1: the oracle is noisy; auto may then repeat\n"
        "                        evaluations where they pay (adaptive)\n"
        "        --target-se X   stop once every standard error is <= X\n"
        "        --no-known      do not give v(all) and v(empty) up front\n"
        "        --json          one JSON object on stdout instead of a table\n"
        "\n"
        "Options:\n"
        "  -h, --help       this text\n"
        "  -V, --version    the tool's and the library's versions\n"
        "\n"
        "Exit status: 0 success, 1 the run failed, 2 bad command line or input.\n",
        f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0 ||
        strcmp(cmd, "version") == 0) {
        printf("agentcredit %s (library %s, ABI %u)\n", AC_VERSION_STRING,
               ac_version_string(), (unsigned)ac_abi_version());
        return CLI_OK;
    }
    if (ac_abi_version() != AC_ABI_VERSION) {
        cli_error("the loaded library has ABI %u, this tool was built for %u",
                  (unsigned)ac_abi_version(), (unsigned)AC_ABI_VERSION);
        return CLI_FAILED;
    }
    if (strcmp(cmd, "demo") == 0)
        return cli_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "shapley") == 0)
        return cli_shapley(argc - 1, argv + 1);
    if (cmd[0] == '-')
        cli_error("unknown option '%s' (try 'agentcredit --help')", cmd);
    else
        cli_error("unknown command '%s' (try 'agentcredit --help')", cmd);
    return CLI_USAGE;
}
