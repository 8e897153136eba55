/* SPDX-License-Identifier: MIT
 * agentcredit command-line tool: entry point, --help, --version. */
#include "cli.h"

#include <string.h>

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    void (*help)(FILE *f, const char *lead);
} commands[] = {
    {"demo", cli_demo, cli_demo_help},
    {"shapley", cli_shapley, cli_shapley_help},
    {"signals", cli_signals, cli_signals_help},
    {"import", cli_import, cli_import_help},
    {"export", cli_export, cli_export_help},
    {"plan", cli_plan, cli_plan_help},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const struct command *find_command(const char *name)
{
    for (size_t c = 0; c < N_COMMANDS; c++)
        if (strcmp(name, commands[c].name) == 0)
            return &commands[c];
    return NULL;
}

static void usage(FILE *f)
{
    fputs("Usage: agentcredit COMMAND [OPTIONS]\n"
          "\n"
          "Credit for the agents of a multi-LLM-agent team: Shapley values over\n"
          "coalitions of agents, with standard errors, a budget of oracle calls\n"
          "and exact conservation (the credits add up to v(all) - v(empty)).\n"
          "\n"
          "Commands:\n",
          f);
    for (size_t c = 0; c < N_COMMANDS; c++)
        commands[c].help(f, "  ");
    fputs("  help [COMMAND]\n"
          "        This text, or a command's options alone (the same as\n"
          "        'agentcredit COMMAND --help').\n"
          "\n"
          "Options:\n"
          "  -h, --help       this text\n"
          "  -V, --version    the tool's and the library's versions\n"
          "\n",
          f);
    cli_print_exit_status(f);
}

/* agentcredit help [COMMAND] */
static int help(int argc, char **argv)
{
    if (argc <= 2) {
        usage(stdout);
        return CLI_OK;
    }
    if (argc > 3) {
        cli_error("help: one command at most, got '%s' and '%s'", argv[2],
                  argv[3]);
        return CLI_USAGE;
    }
    const struct command *cmd = find_command(argv[2]);
    if (cmd == NULL) {
        cli_error("help: unknown command '%s' (try 'agentcredit --help')",
                  argv[2]);
        return CLI_USAGE;
    }
    cmd->help(stdout, "Usage: agentcredit ");
    fputc('\n', stdout);
    cli_print_exit_status(stdout);
    return CLI_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_error("no command given");
        usage(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0 ||
        strcmp(name, "version") == 0) {
        printf("agentcredit %s (library %s, ABI %u)\n", AC_VERSION_STRING,
               ac_version_string(), (unsigned)ac_abi_version());
        return CLI_OK;
    }
    if (ac_abi_version() != AC_ABI_VERSION) {
        cli_error("the loaded library has ABI %u, this tool was built for %u",
                  (unsigned)ac_abi_version(), (unsigned)AC_ABI_VERSION);
        return CLI_FAILED;
    }
    if (cli_is_help(name) || strcmp(name, "help") == 0)
        return help(argc, argv);
    const struct command *cmd = find_command(name);
    if (cmd != NULL)
        return cmd->run(argc - 1, argv + 1);
    if (name[0] == '-')
        cli_error("unknown option '%s' (try 'agentcredit --help')", name);
    else
        cli_error("unknown command '%s' (try 'agentcredit --help')", name);
    return CLI_USAGE;
}
