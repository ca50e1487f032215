/* port_sriov.c — what a physical NIC port needs beyond rx/tx: its own MAC (hw_mac; a VF asks its PF
 * through the mailbox), and on an SR-IOV PF: create the VFs (sysfs), hand them to vfio-pci, and set a
 * VF's MAC and VLAN through the PF driver where the PMD has an API for it (ixgbe, i40e). Where it has
 * none (igb, e1000e, most others) the request fails with ENOTSUP and says so. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include "port_private.h"

typedef int (*vf_mac_fn)(uint16_t port, uint16_t vf, struct rte_ether_addr *mac);
typedef int (*vf_vlan_fn)(uint16_t port, uint16_t vf, uint16_t vlan);

struct vf_api {
	const char *driver, *lib, *set_mac, *set_vlan;
};

/* PMDs with a PF-side VF API, resolved from the plugin DPDK already loaded. */
static const struct vf_api vf_apis[] = {
	{ "net_ixgbe", "librte_net_ixgbe.so.23", "rte_pmd_ixgbe_set_vf_mac_addr",
	  "rte_pmd_ixgbe_set_vf_vlan_insert" },
	{ "net_i40e", "librte_net_i40e.so.23", "rte_pmd_i40e_set_vf_mac_addr",
	  "rte_pmd_i40e_set_vf_vlan_insert" },
};

static int
sysfs_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int
sysfs_read_uint(const char *dir, const char *file, unsigned *out)
{
	char path[PATH_MAX];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	n = fscanf(f, "%u", out);
	fclose(f);
	return n == 1 ? 0 : -EINVAL;
}

/* The PCI address of the port's device, or NULL for a vdev. */
static const char *
pci_name(const struct ferry_port *p)
{
	struct rte_eth_dev_info di;

	if (rte_eth_dev_info_get(p->eth_port, &di) != 0 || di.device == NULL)
		return NULL;
	if (strcmp(rte_bus_name(rte_dev_bus(di.device)), "pci") != 0)
		return NULL;
	return rte_dev_name(di.device);
}

/* Bind VF i of the PF at dir to vfio-pci, so a dpdk port can name it. */
static int
vf_to_vfio(const char *pf_dir, unsigned i)
{
	char link[512], target[256], vf_dir[1024];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/virtfn%u", pf_dir, i);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	snprintf(vf_dir, sizeof(vf_dir), "%s/%s", pf_dir, target);
	const char *bdf = strrchr(target, '/');   /* the link reads "../0000:01:10.0" */
	int rc = sysfs_write(vf_dir, "driver_override", "vfio-pci");
	if (rc == 0)
		rc = sysfs_write("/sys/bus/pci", "drivers_probe", bdf ? bdf + 1 : target);
	return rc;
}


static int
create_vfs(const struct ferry_port_conf *pc, const char *pci, char *err, size_t errlen)
{
	char dir[256], num[8];
	unsigned have = 0, total = 0;
	int rc;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", pci);
	if (sysfs_read_uint(dir, "sriov_totalvfs", &total) < 0 || total < pc->num_vfs) {
		snprintf(err, errlen, "port %s: %s offers %u VFs, %u asked (not an SR-IOV PF, or "
			 "vfio-pci loaded without enable_sriov=1?)", pc->name, pci, total,
			 pc->num_vfs);
		return FERRY_ENOTSUP;
	}
	sysfs_read_uint(dir, "sriov_numvfs", &have);
	if (have != pc->num_vfs) {
		sysfs_write(dir, "sriov_drivers_autoprobe", "0");   /* no kernel driver grabs them */
		snprintf(num, sizeof(num), "%u", pc->num_vfs);
		rc = have == 0 ? 0 : sysfs_write(dir, "sriov_numvfs", "0");
		if (rc == 0)
			rc = sysfs_write(dir, "sriov_numvfs", num);
		if (rc < 0) {
			snprintf(err, errlen, "port %s: cannot create %u VFs on %s: %s", pc->name,
				 pc->num_vfs, pci, strerror(-rc));
			return FERRY_EPROBE;
		}
	}
	for (unsigned i = 0; i < pc->num_vfs; i++)
		if ((rc = vf_to_vfio(dir, i)) < 0)
			FERRY_LOG(WARNING, "port %s: VF %u not bound to vfio-pci: %s", pc->name, i,
				  strerror(-rc));
	FERRY_LOG(INFO, "port %s: %u VFs on %s, bound to vfio-pci", pc->name, pc->num_vfs, pci);
	return 0;
}

/* Before the PF is probed: DPDK's PF drivers (igb, ixgbe, i40e) size their PF-host side (VF
 * mailbox service, VMDq pools) from the VF count sysfs shows when they probe the PF, so the VFs
 * must exist by then. Called by ferryd before rte_eal_init for configured ports, and before
 * rte_dev_probe for ports added at run time. */
int
ferry_port_sriov_prepare(const struct ferry_port_conf *pc, char *err, size_t errlen)
{
	char pci[64];
	size_t n;

	if (pc->num_vfs == 0)
		return 0;
	n = strcspn(pc->devargs, ",");
	if (n == 0 || n + 5 >= sizeof(pci) || ferry_devargs_is_vdev(pc->devargs))
		return 0;   /* a vdev: hw_setup reports it */
	memcpy(pci, pc->devargs, n);
	pci[n] = '\0';
	if (strchr(pci, ':') == strrchr(pci, ':')) {   /* "03:00.0": sysfs names have the domain */
		memmove(pci + 5, pci, n + 1);
		memcpy(pci, "0000:", 5);
	}
	return create_vfs(pc, pci, err, errlen);
}

static const struct vf_api *
find_api(const char *driver)
{
	for (unsigned i = 0; i < RTE_DIM(vf_apis); i++)
		if (strcmp(vf_apis[i].driver, driver) == 0)
			return &vf_apis[i];
	return NULL;
}

static void *
resolve(const struct vf_api *api, const char *sym)
{
	void *h = dlopen(api->lib, RTLD_NOW | RTLD_NOLOAD);

	return h == NULL ? NULL : dlsym(h, sym);
}

static int
configure_vf(struct ferry_port *p, const struct vf_api *api, const struct ferry_vf_conf *vf,
	     char *err, size_t errlen)
{
	vf_mac_fn set_mac = resolve(api, api->set_mac);
	vf_vlan_fn set_vlan = resolve(api, api->set_vlan);
	struct rte_ether_addr mac = vf->mac;
	int rc = 0;

	if (set_mac == NULL || set_vlan == NULL) {
		snprintf(err, errlen, "port %s: %s is loaded without its VF API", p->conf.name,
			 api->driver);
		return FERRY_ENOTSUP;
	}
	if (vf->has_mac)
		rc = set_mac(p->eth_port, vf->vf, &mac);
	if (rc == 0 && vf->vlan != 0)
		rc = set_vlan(p->eth_port, vf->vf, vf->vlan);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: VF %u setup refused by %s: %s", p->conf.name, vf->vf,
			 api->driver, rte_strerror(-rc));
		return rc == -ENOTSUP ? FERRY_ENOTSUP : FERRY_EPROBE;
	}
	return 0;
}

static int
configure_vfs(struct ferry_port *p, char *err, size_t errlen)
{
	struct rte_eth_dev_info di;
	const struct vf_api *api;

	if (p->conf.n_vfs == 0)
		return 0;
	if (rte_eth_dev_info_get(p->eth_port, &di) != 0)
		return FERRY_EPROBE;
	api = find_api(di.driver_name);
	if (api == NULL) {
		snprintf(err, errlen, "port %s: the %s PMD has no API to set a VF's MAC or VLAN from the "
			 "PF (ENOTSUP); set the MAC on the VF's own port with hw_mac instead",
			 p->conf.name, di.driver_name);
		return FERRY_ENOTSUP;
	}
	for (unsigned i = 0; i < p->conf.n_vfs; i++) {
		int rc = configure_vf(p, api, &p->conf.vfs[i], err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
set_hw_mac(struct ferry_port *p, char *err, size_t errlen)
{
	struct rte_ether_addr mac = p->conf.hw_mac;
	int rc = rte_eth_dev_default_mac_addr_set(p->eth_port, &mac);

	if (rc != 0) {
		snprintf(err, errlen, "port %s: device refused MAC change: %s", p->conf.name,
			 rte_strerror(-rc));
		return rc == -ENOTSUP ? FERRY_ENOTSUP : FERRY_EPROBE;
	}
	return 0;
}

int
ferry_port_dpdk_hw_setup(struct ferry_port *p, char *err, size_t errlen)
{
	int rc;

	if (p->conf.has_hw_mac && (rc = set_hw_mac(p, err, errlen)) != 0)
		return rc;
	if (p->conf.num_vfs == 0 && p->conf.n_vfs == 0)
		return 0;
	if (pci_name(p) == NULL) {
		snprintf(err, errlen, "port %s: sriov needs a PCI device (PF), not '%s'", p->conf.name,
			 p->conf.devargs);
		return FERRY_EINVAL;
	}
	/* the VFs themselves were created before the PF was probed (ferry_port_sriov_prepare) */
	return configure_vfs(p, err, errlen);
}
