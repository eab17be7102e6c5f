// SPDX-License-Identifier: GPL-2.0
/*
 * xvm-vmm: the minimal VMM that drives xvm, in the manner of kvmtool's lkvm.
 *
 *   xvm-vmm caps                       what the loaded modules support
 *   xvm-vmm run CONFIG [--json] [-v] [--control PATH]
 *                                      create the VM a config describes, run
 *                                      its script, print a summary; PATH: the
 *                                      control socket (control.c)
 *   xvm-vmm stat PATH [-i MS] [-n N] [--once] [--json] [-v]
 *                                      live statistics of a running VMM (stat.c)
 *   xvm-vmm save CONFIG FILE [-v]      run CONFIG's script, write the VM's
 *                                      state to FILE (state.c)
 *   xvm-vmm restore FILE [--save FILE2] [--check] [-v]
 *                                      a fresh VM from FILE; FILE2: its state
 *                                      saved again; --check: the script runs
 *   xvm-vmm migrate CONFIG ADDR [...]  run CONFIG's script up to its migrate
 *                                      step, send the VM to ADDR (migrate.c)
 *   xvm-vmm incoming ADDR [...]        receive it there, restore it, run the
 *                                      rest of the script
 *   xvm-vmm update PATH                live update: take the VM of the VMM on
 *                                      the control socket PATH over (update*.c)
 *   xvm-vmm demo                       run the installed examples' demo.conf
 *   xvm-vmm [COMMAND] --help
 *
 * Exit status: 0 every check held, 1 a check or the setup failed, 2 usage
 * or config error.  The config format is documented in examples/README.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm.h"

/*
 * The examples are found next to the binary, so that any PREFIX works:
 * BINDIR/../share/xvm/examples (make install, the Debian package's
 * /usr/share/xvm/examples), then BINDIR/../examples (the sandbox guest's
 * /opt/xvm/{bin,examples}).
 */
#define DEMO_CONFIG	"demo.conf"
#define EXAMPLES_HELP	"BINDIR/../share/xvm/examples"
static const char *const examples_dirs[] = {
	"../share/xvm/examples", "../examples",
};

/* DIR/REL/demo.conf into path; false if it does not fit. */
static bool demo_path(char *path, const char *dir, const char *rel)
{
	int n = snprintf(path, PATH_MAX, "%s/%s/" DEMO_CONFIG, dir, rel);

	return n > 0 && n < PATH_MAX;
}

/* The first readable demo.conf of examples_dirs[], else the first one. */
static const char *demo_config(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	unsigned int i;

	if (n <= 0)
		return "/usr/share/xvm/examples/" DEMO_CONFIG;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	for (i = 0; i < sizeof(examples_dirs) / sizeof(examples_dirs[0]); i++)
		if (demo_path(path, exe, examples_dirs[i]) && !access(path, R_OK))
			return path;
	if (!demo_path(path, exe, examples_dirs[0]))
		return "/usr/share/xvm/examples/" DEMO_CONFIG;
	return path;
}

static const struct {
	long cap;
	const char *name;
} caps[] = {
	{ XVM_CAP_MAX_VCPUS,		"max vCPUs" },
	{ XVM_CAP_MAX_VCPU_ID,		"max vCPU id (exclusive)" },
	{ XVM_CAP_NR_MEMSLOTS,		"memory slots" },
	{ XVM_CAP_MAX_PHYS_ADDR_BITS,	"max guest physical address bits" },
	{ XVM_CAP_MMIO_BATCH,		"accesses per MMIO batch" },
	{ XVM_CAP_MAX_MMIO_REGIONS,	"MMIO regions per VM" },
	{ XVM_CAP_EVTCHN,		"event-channel ports" },
	{ XVM_CAP_POLL_MAX_PORTS,	"ports per XVM_POLL" },
};

static const struct {
	unsigned int type;
	const char *name;
} device_types[] = {
	{ XVM_DEV_TYPE_TEST,		"test device (xvm-testdev)" },
	{ XVM_DEV_TYPE_ARM_VGIC_V3,	"GICv3 (xvm-vgic)" },
	{ XVM_DEV_TYPE_VFIO_MSIX,	"VFIO MSI-X interposer (xvm-msix)" },
	{ XVM_DEV_TYPE_IOMMU,		"typed IOMMU (xvm-iommu)" },
};

static void usage_main(FILE *f)
{
	fprintf(f, "usage: xvm-vmm COMMAND [ARGS]\n"
		"  caps                       print what the loaded xvm modules support\n"
		"  run CONFIG [--json] [-v] [--control PATH]\n"
		"                             create and run the VM CONFIG describes\n"
		"  stat PATH [-i MS] [-n N] [--once] [--json] [-v]\n"
		"                             live statistics of the VMM run with --control PATH\n"
		"  save CONFIG FILE [-v]      run CONFIG's script, save the VM's state to FILE\n"
		"  restore FILE [--save FILE2] [--check] [-v]\n"
		"                             restore a saved VM into a fresh one\n"
		"  migrate CONFIG ADDR [--save FILE] [--timeout S] [-v]\n"
		"                             run CONFIG's script up to 'migrate', send the VM to ADDR\n"
		"  incoming ADDR [--check] [--save FILE] [--timeout S] [-v]\n"
		"                             receive a VM on ADDR, restore it, go on with its script\n"
		"  update PATH                live update: take over the VM of the VMM on PATH\n"
		"  demo [--json] [-v]         run " EXAMPLES_HELP "/" DEMO_CONFIG "\n"
		"  COMMAND --help             help for a command\n"
		"exit status: 0 all checks held, 1 a check failed, 2 usage or config error\n");
}

static void usage_caps(FILE *f)
{
	fprintf(f, "usage: xvm-vmm caps\n"
		"  Opens /dev/xvm and prints the API version, the XVM_CHECK_EXTENSION\n"
		"  values and which device types (modules) are loaded.\n");
}

static void usage_run(FILE *f)
{
	fprintf(f, "usage: xvm-vmm run CONFIG [--json] [-v] [--control PATH]\n"
		"  Creates the VM described by CONFIG (vCPUs, memory, GICv3, event ports,\n"
		"  VFIO devices with MSI-X interposition, xvm-iommu devices), runs the\n"
		"  config's script as the guest (there is no CPU emulation), and prints\n"
		"  every interrupt delivered, every DMA check and a summary table.\n"
		"  --json   one JSON document on stdout instead of the text\n"
		"  -v       trace every ioctl on stderr\n"
		"  --control PATH  while the script runs, listen on the unix socket PATH\n"
		"           (mode 0600, removed at exit) for `xvm-vmm stat PATH` and\n"
		"           `xvm-vmm update PATH` (a live update)\n"
		"  Format: examples/README.md (installed examples: " EXAMPLES_HELP ").\n"
		"  Exit: 0 all checks held, 1 a check or the setup failed, 2 bad config.\n");
}

static int cmd_caps(void)
{
	int xvm = xvm_open(), vm;
	unsigned int i;

	if (xvm < 0) {
		perror("open " XVM_DEV_PATH);
		return EXIT_CHECK;
	}
	printf("xvm API version %d\n", xvm_get_api_version(xvm));
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		printf("  %-34s %d\n", caps[i].name,
		       xvm_check_extension(xvm, caps[i].cap));
	vm = xvm_create_vm(xvm, 0);
	if (vm < 0) {
		perror("XVM_CREATE_VM");
		return EXIT_CHECK;
	}
	printf("device types:\n");
	for (i = 0; i < sizeof(device_types) / sizeof(device_types[0]); i++)
		printf("  %-34s %s\n", device_types[i].name,
		       xvm_create_device(vm, device_types[i].type,
					 XVM_CREATE_DEVICE_TEST, NULL) ?
		       "not loaded" : "available");
	close(vm);
	close(xvm);
	return 0;
}

static const char *opt_control;

static int cmd_run(const char *path)
{
	const struct vmm_config *cfg = config_parse(path);
	static struct vm vm;
	int failed;

	if (!cfg)
		return EXIT_USAGE;
	out_init(cfg->file);
	update_enabled = true;
	failed = vm_setup(&vm, cfg, 0) ||
		 (opt_control && control_start(&vm, opt_control)) ||
		 script_run(&vm);
	control_stop();
	section("teardown");
	vm_teardown(&vm);
	say("VM, devices and threads released; devices handed back to the host");
	return out_finish(failed);
}

/* caps, run or demo, once the arguments are read. */
static int dispatch(const char *cmd, const char *config, bool help)
{
	if (!strcmp(cmd, "caps")) {
		if (help) {
			usage_caps(stdout);
			return 0;
		}
		if (config || opt_json || opt_verbose || opt_control) {
			usage_caps(stderr);
			return EXIT_USAGE;
		}
		return cmd_caps();
	}
	if (strcmp(cmd, "run") && strcmp(cmd, "demo")) {
		fprintf(stderr, "xvm-vmm: unknown command '%s'\n", cmd);
		usage_main(stderr);
		return EXIT_USAGE;
	}
	if (help) {
		usage_run(stdout);
		return 0;
	}
	if (!strcmp(cmd, "demo")) {
		if (config) {
			usage_main(stderr);
			return EXIT_USAGE;
		}
		config = demo_config();
	}
	if (!config) {
		usage_run(stderr);
		return EXIT_USAGE;
	}
	return cmd_run(config);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL, *config = NULL;
	bool help = false;
	int i;

	signal(SIGPIPE, SIG_IGN);
	if (!cmd) {
		usage_main(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage_main(stdout);
		return 0;
	}
	if (!strcmp(cmd, "stat"))
		return cmd_stat(argc - 1, argv + 1);
	if (!strcmp(cmd, "save"))
		return cmd_save(argc - 1, argv + 1);
	if (!strcmp(cmd, "restore"))
		return cmd_restore(argc - 1, argv + 1);
	if (!strcmp(cmd, "migrate"))
		return cmd_migrate(argc - 1, argv + 1);
	if (!strcmp(cmd, "incoming"))
		return cmd_incoming(argc - 1, argv + 1);
	if (!strcmp(cmd, "update"))
		return cmd_update(argc - 1, argv + 1);
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			help = true;
		else if (!strcmp(argv[i], "--json"))
			opt_json = 1;
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			opt_verbose = 1;
		else if (!strcmp(argv[i], "--control") && i + 1 < argc)
			opt_control = argv[++i];
		else if (argv[i][0] != '-' && !config)
			config = argv[i];
		else {
			fprintf(stderr, "xvm-vmm %s: unknown argument '%s'\n", cmd, argv[i]);
			return EXIT_USAGE;
		}
	}
	return dispatch(cmd, config, help);
}
