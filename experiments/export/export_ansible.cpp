// --format ansible: a playbook and a role (ansible-core 2.14, Debian 12's) that roll a profile out to
// an inventory. What each host does, in order:
//   gate     `wgopt facts --profile -` (the comparison `wgopt apply` makes): a host of another kind is
//            skipped with the differing facts named (meta: end_host), before anything changes
//   apply    `wgopt apply` of the profile now (journaled; --check runs --dry-run instead), then the
//            post-apply check (the tunnel answers ping); a failed check rolls the host back and fails
//            it, and max_fail_percentage: 0 stops the rollout at that batch
//   install  only then, the files of `--format all` (sysctl.d, the tuning unit and script, the unit
//            bound to the WireGuard interface, the .link, the retune timer, the profile, the
//            boot-files manifest) copied verbatim from files/, and /etc/wgopt/retune.env with this
//            host's retune peer: a host rolled back keeps the boot files it had, so its next boot
//            does not bring the values back that its check refused. The boot files an earlier
//            rollout's manifest lists and this profile no longer has are removed, with their
//            units' enablement links. A failure here (after the apply passed) fails the host
//            saying the knobs hold the profile and its boot files only in part
//   systemd  units enabled (boot, the interface unit) and the retune timer started; under a
//            wgopt_root other than / enabled inside it (systemctl --root), so an image's boot
//            runs them; skipped with a message on a host without systemd (the knobs were applied
//            all the same)
//   tuned    on a TuneD host, a child profile of the host's active one, where that TuneD looks
// Profile text never becomes Jinja or YAML structure: the files are copied (never templated), vars
// come from yaml-cpp's Emitter (free text tagged !unsafe), and the profile reaches `wgopt` on the
// host through a file lookup on stdin (lookup results are unsafe to Ansible). The task files are
// this file's constants; the only values they interpolate are role variables validated here
// (paths, interface names) or on the host (assert: the retune peer, TuneD's profile names).
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/export/export.hpp"
#include "experiments/export/export_manifest.hpp"
#include "experiments/export/export_model.hpp"

namespace wgopt::experiments {

using namespace exportfmt;

namespace {

const char* kRole = "roles/wgopt/";

const char* kPlaybook = R"YAML(
# Run it:   ansible-playbook -i INVENTORY playbook.yml
# A canary: ansible-playbook -i INVENTORY playbook.yml -e wgopt_serial=1      (one host at a time)
#           -e '{"wgopt_serial": [1, 5, "25%"]}'                               (1, then 5, then a quarter)
# Dry run:  ansible-playbook -i INVENTORY playbook.yml --check --diff
# Hosts:    -e wgopt_hosts=GROUP (default all). Variables: roles/wgopt/defaults/main.yml.
- name: Roll out a wgopt profile
  hosts: "{{ wgopt_hosts | default('all') }}"
  gather_facts: true
  # The role reads one fact (service_mgr, in the minimal subset): hardware, network and virtual
  # facts would cost seconds per host for nothing.
  gather_subset: ["!all", "min"]
  # A few hosts at a time; any host that fails (its post-apply check included) stops the rollout.
  serial: "{{ wgopt_serial | default('100%') }}"
  max_fail_percentage: 0
  roles:
    - role: wgopt
)YAML";

const char* kDefaults = R"YAML(
# Install under this directory instead of / (image builds, chroots, tests): the units are enabled
# inside it with `systemctl --root` (started only when it is / on a systemd host). The machine that
# runs the play is still gated and tuned now unless wgopt_apply is false.
wgopt_root: /
# Gate this host by its facts (wgopt facts) and apply the profile to it now (wgopt apply, then the
# post-apply check). false for an image build or a chroot under wgopt_root (refused with wgopt_root
# /): the files only, wgopt looked for (or copied) inside that root at wgopt_path, and nothing is
# compared with or applied to the machine that runs the play; the installed boot unit applies the
# profile when that root boots.
wgopt_apply: true
# The wgopt on each host: `wgopt facts` gates the host, `wgopt apply` applies the profile now,
# the timer runs `wgopt retune` nightly (the same version as the one that exported this role).
wgopt_path: "%WGOPT_PATH%"
# A wgopt binary on the controller to copy to wgopt_path first ("": it is installed already).
wgopt_binary_src: ""
# This host's own iperf3 server for the nightly retune (written to /etc/wgopt/retune.env, read by
# wgopt-retune.service); "": the peer the profile's evidence names.
wgopt_retune_peer: ""
wgopt_retune_port: 5201
# After the apply this address must answer ping (through the tunnel), else the host is rolled back
# (`wgopt rollback`) and the rollout stops. Default: the retune peer; "": no check.
wgopt_check_address: "{{ wgopt_retune_peer }}"
wgopt_check_count: 3
# Enable and start the nightly retune timer (systemd hosts).
wgopt_retune_timer: true
# TuneD hosts (/etc/tuned/active_profile exists): install wgopt's settings as a child profile of
# the active one, and switch TuneD to it (systemd hosts).
wgopt_tuned: true
wgopt_tuned_activate: true
)YAML";

const char* kTasksMain = R"YAML(
# Nothing changes before the gate; nothing is installed before the apply passed its check (a host
# rolled back keeps the boot files it had); the units are enabled last.
- name: Check this host against the profile's host facts
  ansible.builtin.import_tasks: gate.yml

- name: Apply the profile now and check the tunnel
  ansible.builtin.import_tasks: apply.yml

- name: Install the boot files, the units and the profile
  ansible.builtin.import_tasks: install.yml

- name: Enable the units on systemd hosts
  ansible.builtin.import_tasks: systemd.yml

- name: Add the settings to the host's TuneD profile
  ansible.builtin.import_tasks: tuned.yml
)YAML";

const char* kTasksGate = R"YAML(
- name: Refuse wgopt_apply=false on the running system's own root
  ansible.builtin.fail:
    msg: "wgopt_apply=false installs under wgopt_root only, and wgopt_root is /: the units, the timer and TuneD would tune {{ inventory_hostname }} ungated; set wgopt_root to the image or chroot, or leave wgopt_apply true"
  when: not (wgopt_apply | bool) and wgopt_prefix == ''

- name: Find wgopt on this host (in the image under wgopt_root when wgopt_apply is false)
  ansible.builtin.stat:
    path: "{{ wgopt_binary_at }}"
  register: wgopt_binary

- name: Create the directory wgopt goes to (wgopt_binary_src)
  ansible.builtin.file:
    path: "{{ wgopt_binary_at | dirname }}"
    state: directory
    mode: "0755"
  when: wgopt_binary_src | length > 0

- name: Install wgopt from the controller (wgopt_binary_src)
  ansible.builtin.copy:
    src: "{{ wgopt_binary_src }}"
    dest: "{{ wgopt_binary_at }}"
    mode: "0755"
  when: wgopt_binary_src | length > 0

- name: Stop when wgopt is missing
  ansible.builtin.fail:
    msg: "{{ wgopt_binary_at }} does not exist on {{ inventory_hostname }}: install wgopt there (the version that exported this role) or set wgopt_binary_src"
  when: not wgopt_binary.stat.exists and wgopt_binary_src | length == 0

- name: Check this host's retune peer (wgopt_retune_peer, wgopt_retune_port)
  ansible.builtin.assert:
    that:
      - wgopt_retune_peer is match('^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$')
      - (wgopt_retune_port | string) is match('^[0-9]{1,5}$')
      - (wgopt_retune_port | int) >= 1
      - (wgopt_retune_port | int) <= 65535
    fail_msg: "wgopt_retune_peer must be an address or host name and wgopt_retune_port a port 1..65535"
    quiet: true
  when: wgopt_retune_peer | length > 0

- name: Compare this host's facts with the profile's (wgopt facts, the check wgopt apply makes)
  ansible.builtin.command:
    argv: ["{{ wgopt_path }}", "facts", "--profile", "-", "--json"]
    stdin: "{{ lookup('ansible.builtin.file', wgopt_profile_file) }}"
  register: wgopt_facts_run
  changed_when: false
  check_mode: false
  failed_when: wgopt_facts_run.rc not in [0, 3]
  when: wgopt_apply | bool

- name: Say the files go under wgopt_root only (wgopt_apply is false)
  ansible.builtin.debug:
    msg: "wgopt: {{ inventory_hostname }}: wgopt_apply is false: the files are installed under {{ wgopt_root }}; this machine's facts are not compared and nothing is applied to it"
  when: not (wgopt_apply | bool)

- name: Skip a host of another kind than the profile's
  when: wgopt_apply | bool and not (wgopt_facts_run.stdout | from_json).matches
  block:
    - name: Say why this host is skipped
      ansible.builtin.debug:
        msg: "wgopt: {{ inventory_hostname }} skipped, nothing changed: {{ (wgopt_facts_run.stdout | from_json).summary }}"

    - name: Leave this host untouched
      ansible.builtin.meta: end_host
)YAML";

const char* kTasksInstall = R"YAML(
# An earlier rollout's boot files this profile no longer has (no offload left for a .link, no
# device knob for the tuning unit): installed, they would put the old profile's values back at the
# next boot. The manifest it installed names them; only names wgopt renders are taken from it.
# A failure here comes after the apply passed its check: the knobs hold the profile now, the boot
# files only in part. The host fails with what is where, and the rollout stops.
- name: Install the boot files after the passed apply
  block:
    - name: Read the boot-files manifest an earlier rollout installed
      ansible.builtin.slurp:
        src: "{{ wgopt_prefix }}/etc/wgopt/boot-files.yaml"
      register: wgopt_old_manifest
      failed_when: false
      check_mode: false

    - name: Decide the earlier rollout's boot files this profile no longer has
      when: wgopt_old_manifest.content is defined
      block:
        - name: Take them from its manifest
          ansible.builtin.set_fact:
            wgopt_stale_files: "{{ ((wgopt_old_manifest.content | b64decode | from_yaml).files | default([]))
              | select('match', '^(etc/sysctl[.]d/99-wgopt[.]conf|usr/local/sbin/wgopt-tuning[.]sh|etc/systemd/system/wgopt-tuning[A-Za-z0-9_.@-]*[.]service|etc/systemd/network/10-wgopt-[A-Za-z0-9_.-]*[.]link|etc/wgopt/netbird-mtu[.]env)$')
              | difference((wgopt_boot_files + wgopt_unit_files) | map(attribute='src') | list) | list }}"
      rescue:
        - name: Say the earlier manifest is not one wgopt wrote (it is replaced; the files it may name are left)
          ansible.builtin.debug:
            msg: "wgopt: {{ inventory_hostname }}: warning: {{ wgopt_prefix }}/etc/wgopt/boot-files.yaml is not a manifest wgopt wrote (changed by hand or damaged): this rollout replaces it; the boot files an earlier rollout installed and this profile no longer has are left where they are: remove them by hand"

        - name: Leave the earlier rollout's files
          ansible.builtin.set_fact:
            wgopt_stale_files: []

    - name: Create the directories the files go to
      ansible.builtin.file:
        path: "{{ wgopt_prefix }}/{{ item }}"
        state: directory
        mode: "0755"
      loop: "{{ wgopt_directories }}"

    - name: Install the boot files and the profile (sysctl.d, the tuning script, the .link, /etc/wgopt)
      ansible.builtin.copy:
        src: "{{ item.src }}"
        dest: "{{ wgopt_prefix }}/{{ item.src }}"
        mode: "{{ item.mode }}"
      loop: "{{ wgopt_boot_files }}"
      loop_control:
        label: "{{ item.src }}"

    - name: Install the units (the tuning unit, the unit bound to the WireGuard interface, the retune timer)
      ansible.builtin.copy:
        src: "{{ item.src }}"
        dest: "{{ wgopt_prefix }}/{{ item.src }}"
        mode: "{{ item.mode }}"
      loop: "{{ wgopt_unit_files }}"
      loop_control:
        label: "{{ item.src }}"
      register: wgopt_units_copied

    - name: Find the enablement links of the earlier rollout's units this profile no longer has
      ansible.builtin.find:
        paths: "{{ wgopt_prefix }}/etc/systemd/system"
        recurse: true
        file_type: link
        patterns: "{{ wgopt_stale_files | select('match', '^etc/systemd/system/') | map('basename') | list }}"
      register: wgopt_stale_links
      when: wgopt_stale_files | default([]) | select('match', '^etc/systemd/system/') | list | length > 0

    - name: Remove the earlier rollout's boot files this profile no longer has (and their units' links)
      ansible.builtin.file:
        path: "{{ item }}"
        state: absent
      loop: "{{ (wgopt_stale_files | default([]) | map('regex_replace', '^', wgopt_prefix + '/') | list)
          + (wgopt_stale_links.files | default([]) | map(attribute='path') | list) }}"
      register: wgopt_stale_removed

    - name: Install this host's retune peer (/etc/wgopt/retune.env, read by wgopt-retune.service)
      ansible.builtin.copy:
        content: "WGOPT_RETUNE_PEER={{ wgopt_retune_peer }}\nWGOPT_RETUNE_PORT={{ wgopt_retune_port }}\n"
        dest: "{{ wgopt_prefix }}/etc/wgopt/retune.env"
        mode: "0644"
      when: wgopt_retune_peer | length > 0

  rescue:
    - name: Stop the rollout at this host (its boot files are not all installed)
      ansible.builtin.fail:
        msg: "wgopt: {{ inventory_hostname }}: the boot files were not all installed ({{ ansible_failed_task.name }}: {{ (ansible_failed_result.results | default([]) | selectattr('failed', 'defined') | selectattr('failed') | map(attribute='msg') | first | default(ansible_failed_result.msg | default('failed'))) }}); {{ 'nothing was changed (--check)' if ansible_check_mode else ('the profile is applied now, but after a reboot this host would hold only part of it; fix that and run the play again (it installs what is missing), or undo the apply with wgopt rollback on it' if wgopt_applied is changed else ('its knobs already held the profile; fix that and run the play again' if wgopt_apply | bool else 'nothing was applied to this machine (wgopt_apply is false); fix that and run the play again')) }}; the rollout stops here"
)YAML";

const char* kTasksApply = R"YAML(
- name: See what the profile would change here (wgopt apply --dry-run)
  ansible.builtin.command:
    argv: ["{{ wgopt_path }}", "apply", "--dry-run", "--json", "-"]
    stdin: "{{ lookup('ansible.builtin.file', wgopt_profile_file) }}"
  register: wgopt_preview
  check_mode: false
  changed_when: ansible_check_mode and (wgopt_preview.stdout | from_json).steps | selectattr('would_change') | list | length > 0
  when: wgopt_apply | bool

- name: Show the knobs that would change (--check)
  ansible.builtin.debug:
    msg: "{{ (wgopt_preview.stdout | from_json).steps | selectattr('would_change') | list }}"
  when: ansible_check_mode and wgopt_preview is changed

- name: Apply the profile now and check the tunnel still answers
  when: not ansible_check_mode and wgopt_apply | bool
  block:
    - name: Apply the profile (wgopt apply, one transaction; the originals are journaled for wgopt rollback)
      ansible.builtin.command:
        argv: ["{{ wgopt_path }}", "apply", "--json", "-"]
        stdin: "{{ lookup('ansible.builtin.file', wgopt_profile_file) }}"
      register: wgopt_applied
      changed_when: (wgopt_applied.stdout | from_json).steps | selectattr('written') | list | length > 0
      when: (wgopt_preview.stdout | from_json).steps | selectattr('would_change') | list | length > 0

    - name: Check the tunnel still answers (post-apply check)
      ansible.builtin.command:
        argv: ["ping", "-n", "-q", "-c", "{{ wgopt_check_count }}", "-W", "2", "{{ wgopt_check_address }}"]
      changed_when: false
      when: wgopt_check_address | length > 0

  rescue:
    - name: Put this host's knobs back (wgopt rollback)
      ansible.builtin.command:
        argv: ["{{ wgopt_path }}", "rollback"]
      when: wgopt_applied is changed

    - name: Stop the rollout at this host
      ansible.builtin.fail:
        msg: "wgopt: {{ inventory_hostname }} failed after the apply ({{ ansible_failed_task.name }}); {{ 'its knobs were rolled back' if wgopt_applied is changed else 'nothing was applied' }} and no file was installed; the rollout stops here"
)YAML";

const char* kTasksSystemd = R"YAML(
- name: Tell whether this host runs systemd
  ansible.builtin.stat:
    path: /run/systemd/system
  register: wgopt_systemd_dir

# An earlier rollout's timer this one has none of (a profile without evidence, or wgopt_retune_timer
# false) is disabled below: it ran `wgopt retune` on the new profile every night, which refused it.
- name: Find a retune timer an earlier rollout installed
  ansible.builtin.stat:
    path: "{{ wgopt_prefix }}/etc/systemd/system/wgopt-retune.timer"
  register: wgopt_old_timer

- name: Decide whether to enable units here
  ansible.builtin.set_fact:
    wgopt_systemd: "{{ wgopt_systemd_dir.stat.exists and ansible_facts.service_mgr | default('') == 'systemd' and wgopt_prefix == '' }}"

- name: Say why the unit and timer tasks are skipped
  ansible.builtin.debug:
    msg: "wgopt: {{ inventory_hostname }} does not run systemd here (service manager {{ ansible_facts.service_mgr | default('unknown') }}): the unit and timer tasks are skipped; {{ 'nothing was changed (--check)' if ansible_check_mode else ('the units are installed' + (' and the knobs were applied now' if wgopt_apply | bool else ', nothing applied to this machine (wgopt_apply is false)')) }}"
  when: not wgopt_systemd and wgopt_prefix == ''

# An image or a chroot under wgopt_root: the units are enabled inside it, as `systemctl --root`
# makes the links (no systemd need run), so its first boot runs them.
- name: Enable the units inside wgopt_root
  when: wgopt_prefix != ''
  block:
    - name: Find systemctl (it enables units inside a root without a running systemd)
      ansible.builtin.command:
        argv: ["systemctl", "--version"]
      register: wgopt_systemctl
      changed_when: false
      failed_when: false
      check_mode: false

    # The retune timer runs wgopt from inside the root: enabled only where the root has it (with
    # wgopt_apply true the binary is this machine's, not the image's).
    - name: Find wgopt inside wgopt_root (the retune timer runs it there)
      ansible.builtin.stat:
        path: "{{ wgopt_prefix }}{{ wgopt_path }}"
      register: wgopt_root_binary

    - name: Decide the units to enable inside wgopt_root
      ansible.builtin.set_fact:
        wgopt_root_units: "{{ wgopt_units + (['wgopt-retune.timer'] if (wgopt_retune_timer | bool and wgopt_root_binary.stat.exists) else []) }}"

    - name: Enable the tuning units and the retune timer inside wgopt_root (systemctl --root)
      ansible.builtin.command:
        argv: "{{ ['systemctl', '--root=' + wgopt_prefix, 'enable'] + wgopt_root_units }}"
      register: wgopt_root_enabled
      changed_when: "'Created symlink' in wgopt_root_enabled.stderr"
      when: wgopt_systemctl.rc == 0 and wgopt_root_units | length > 0

    - name: Disable inside wgopt_root the retune timer an earlier rollout enabled (this rollout enables none)
      ansible.builtin.command:
        argv: ["systemctl", "--root={{ wgopt_prefix }}", "disable", "wgopt-retune.timer"]
      register: wgopt_root_timer_off
      changed_when: "'Removed' in wgopt_root_timer_off.stderr"
      when: wgopt_systemctl.rc == 0 and wgopt_old_timer.stat.exists and 'wgopt-retune.timer' not in wgopt_root_units

    - name: Say what was enabled inside wgopt_root
      ansible.builtin.debug:
        msg: "wgopt: {{ inventory_hostname }}: {{ 'nothing was changed (--check)' if ansible_check_mode else ('no unit to enable inside ' + wgopt_root if wgopt_root_units | length == 0 else (('the units are enabled inside ' + wgopt_root + ' (systemctl --root): its boot runs them') if wgopt_systemctl.rc == 0 else ('systemctl is not here: the units are installed under ' + wgopt_root + ' but not enabled; enable them there with systemctl --root=' + wgopt_root + ' enable'))) }}{{ '' if ansible_check_mode or not (wgopt_retune_timer | bool) or wgopt_root_binary.stat.exists else ('; the retune timer is not enabled: ' + wgopt_root + wgopt_path + ' does not exist') }}{{ '' if ansible_check_mode else ('; the knobs were applied now' if wgopt_apply | bool else '; nothing applied to this machine (wgopt_apply is false)') }}"

- name: Enable the units
  when: wgopt_systemd
  block:
    - name: Reload systemd (unit files new, changed or removed)
      ansible.builtin.systemd:
        daemon_reload: true
      when: wgopt_units_copied is changed or wgopt_stale_removed is changed

    - name: Enable the tuning unit (every boot) and the unit bound to the WireGuard interface (each time it appears)
      ansible.builtin.systemd:
        name: "{{ item }}"
        enabled: true
      loop: "{{ wgopt_units }}"

    - name: Start the nightly retune timer
      ansible.builtin.systemd:
        name: wgopt-retune.timer
        enabled: true
        state: started
      when: wgopt_retune_timer | bool

    - name: Stop and disable the retune timer an earlier rollout started (this rollout has none)
      ansible.builtin.systemd:
        name: wgopt-retune.timer
        enabled: false
        state: stopped
      when: not (wgopt_retune_timer | bool) and wgopt_old_timer.stat.exists
)YAML";

const char* kTasksTuned = R"YAML(
- name: Find TuneD's active profile
  ansible.builtin.stat:
    path: "{{ wgopt_prefix }}/etc/tuned/active_profile"
  register: wgopt_tuned_active_file

- name: Add wgopt's settings to the host's TuneD profile
  when: wgopt_tuned | bool and wgopt_tuned_active_file.stat.exists
  block:
    - name: Read the active TuneD profile
      ansible.builtin.slurp:
        src: "{{ wgopt_prefix }}/etc/tuned/active_profile"
      register: wgopt_tuned_active_raw

    - name: Find where this TuneD keeps user profiles (2.24 and later /etc/tuned/profiles, older /etc/tuned)
      ansible.builtin.stat:
        path: "{{ wgopt_prefix }}/etc/tuned/profiles"
      register: wgopt_tuned_profiles_dir

    - name: Decide the directory and the parent profile
      ansible.builtin.set_fact:
        wgopt_tuned_dir: "{{ wgopt_prefix }}/etc/tuned/{{ 'profiles/' if (wgopt_tuned_profiles_dir.stat.isdir | default(false)) else '' }}wgopt"
        wgopt_tuned_active: "{{ (wgopt_tuned_active_raw.content | b64decode).split() }}"

    - name: Take the active profile as the parent
      ansible.builtin.set_fact:
        wgopt_tuned_parents: "{{ wgopt_tuned_active | reject('equalto', 'wgopt') | list }}"

    - name: Read the parent an earlier run recorded (wgopt is the active profile now)
      ansible.builtin.slurp:
        src: "{{ wgopt_tuned_dir }}/tuned.conf"
      register: wgopt_tuned_installed
      when: "'wgopt' in wgopt_tuned_active"

    - name: Take the recorded parent
      ansible.builtin.set_fact:
        wgopt_tuned_parents: "{{ ((wgopt_tuned_installed.content | b64decode | regex_findall('(?m)^include=(.*)$') | first | default('')).split(',') | map('trim') | select | list }}"
      when: "'wgopt' in wgopt_tuned_active"

    - name: Check the parent profile names
      ansible.builtin.assert:
        that:
          - wgopt_tuned_parents | length > 0
          - wgopt_tuned_parents | length <= 8
          - wgopt_tuned_parents | select('match', '^[A-Za-z0-9_.-]{1,64}$') | list | length == wgopt_tuned_parents | length
        fail_msg: "TuneD's active profile on {{ inventory_hostname }} is not a list of profile names: set one with tuned-adm profile NAME"
        quiet: true

    - name: Create the TuneD profile's directory
      ansible.builtin.file:
        path: "{{ wgopt_tuned_dir }}"
        state: directory
        mode: "0755"

    - name: Install the TuneD profile as a child of the active one
      ansible.builtin.copy:
        content: "{{ wgopt_tuned_head }}include={{ wgopt_tuned_parents | join(',') }}\n{{ wgopt_tuned_tail }}"
        dest: "{{ wgopt_tuned_dir }}/tuned.conf"
        mode: "0644"

    - name: Switch TuneD to it
      ansible.builtin.command:
        argv: ["tuned-adm", "profile", "wgopt"]
      when: wgopt_systemd and wgopt_tuned_activate | bool and 'wgopt' not in wgopt_tuned_active
)YAML";

const char* kMeta = R"YAML(
galaxy_info:
  role_name: wgopt
  author: wgopt export
  description: Roll a wgopt profile out to hosts of the SKU it was found on
  license: MIT
  min_ansible_version: "2.14"
  platforms:
    - name: Debian
      versions: [bookworm]
dependencies: []
)YAML";

std::string yaml_file(const act::Profile& p, const ExportOptions& o, const std::string& what, const char* body) {
  return "---\n" + header(p, o, "#", what) + body;
}

// A value of vars/main.yml: one emitter per value, never text pasted into YAML.
void files_list(YAML::Emitter& e, const std::vector<ExportFile>& files) {
  e << YAML::BeginSeq;
  for (const auto& f : files) {
    e << YAML::Flow << YAML::BeginMap << YAML::Key << "src" << YAML::Value << YAML::DoubleQuoted << f.path << YAML::Key << "mode"
      << YAML::Value << YAML::DoubleQuoted << fmt::format("{:04o}", f.mode) << YAML::EndMap;
  }
  e << YAML::EndSeq;
}

// Free text as Ansible must keep it: double-quoted, every non-ASCII byte escaped, and !unsafe.
void unsafe(YAML::Emitter& e, const std::string& key, const std::string& text) {
  e << YAML::Key << key << YAML::Value << YAML::LocalTag("unsafe") << YAML::DoubleQuoted << text;
}

// tuned.conf split around its include= line: the role puts the host's active profile there.
std::pair<std::string, std::string> tuned_parts(const act::Profile& p, const ExportOptions& o) {
  const std::string conf = render_export(p, "tuned", o).at(0).content;
  const std::string marker = "include=" + tuned_include(o.tuned_parent) + "\n";
  const auto at = conf.find("\n" + marker);
  if (at == std::string::npos) throw Error("internal: the TuneD profile has no include= line");
  return {conf.substr(0, at + 1), conf.substr(at + 1 + marker.size())};
}

std::string vars_file(const act::Profile& p, const ExportOptions& o, const std::vector<ExportFile>& boot,
                      const std::vector<ExportFile>& units, const InterfaceRoles& roles) {
  std::set<std::string> dirs;
  for (const auto* list : {&boot, &units}) {
    for (const auto& f : *list) dirs.insert(f.path.substr(0, f.path.rfind('/')));
  }
  std::vector<std::string> enable;
  for (const auto& f : units) {
    const std::string name = f.path.substr(f.path.rfind('/') + 1);
    if (name.starts_with("wgopt-tuning")) enable.push_back(name);
  }
  const auto [head, tail] = tuned_parts(p, o);
  YAML::Emitter e;
  e.SetOutputCharset(YAML::EscapeNonAscii);
  e << YAML::BeginMap;
  e << YAML::Key << "wgopt_prefix" << YAML::Value << YAML::DoubleQuoted << "{{ wgopt_root | regex_replace('/+$', '') }}";
  // Where the nightly units find wgopt: this machine's when it is tuned now, the image's otherwise.
  e << YAML::Key << "wgopt_binary_at" << YAML::Value << YAML::DoubleQuoted
    << "{{ wgopt_path if (wgopt_apply | bool) else (wgopt_prefix + wgopt_path) }}";
  e << YAML::Key << "wgopt_profile_file" << YAML::Value << YAML::DoubleQuoted << o.profile_path.substr(1);
  e << YAML::Key << "wgopt_interfaces" << YAML::Value << YAML::BeginMap << YAML::Key << "underlay" << YAML::Value << YAML::DoubleQuoted
    << roles.underlay << YAML::Key << "wireguard" << YAML::Value << YAML::DoubleQuoted << roles.wireguard << YAML::EndMap;
  e << YAML::Key << "wgopt_directories" << YAML::Value << YAML::BeginSeq;
  for (const auto& d : dirs) e << YAML::DoubleQuoted << d;
  e << YAML::EndSeq;
  e << YAML::Key << "wgopt_boot_files" << YAML::Value;
  files_list(e, boot);
  e << YAML::Key << "wgopt_unit_files" << YAML::Value;
  files_list(e, units);
  e << YAML::Key << "wgopt_units" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& u : enable) e << YAML::DoubleQuoted << u;
  e << YAML::EndSeq;
  unsafe(e, "wgopt_tuned_head", head);
  unsafe(e, "wgopt_tuned_tail", tail);
  e << YAML::EndMap;
  if (!e.good()) throw Error(fmt::format("internal: cannot write the role's vars: {}", e.GetLastError()));
  return "---\n" + header(p, o, "#", "the role's data, rendered from the profile; re-export rather than edit") +
         "# Profile text here is !unsafe: Ansible never evaluates it as a template.\n" + e.c_str() + "\n";
}

}  // namespace

std::vector<ExportFile> render_ansible(const act::Profile& profile, const ExportOptions& options) {
  require_unit_path(options.profile_path, "--profile-path");
  require_unit_path(options.wgopt_path, "--wgopt-path");
  if (!options.profile_path.starts_with("/etc/wgopt/")) {
    throw UsageError(fmt::format("--profile-path {}: the role keeps the profile in /etc/wgopt/ (next to its boot-files.yaml, "
                                 "which `wgopt retune` reads): use /etc/wgopt/NAME.yaml",
                                 options.profile_path));
  }
  const Model m = build_model(profile, options);
  std::vector<ExportFile> all = render_export(profile, "all", options);
  std::vector<ExportFile> boot, units;
  for (auto& f : all) {
    if (f.path.ends_with("tuned.conf")) continue;  // the role writes it with the host's active profile as the parent
    (f.path.starts_with("etc/systemd/system/") ? units : boot).push_back(f);
  }
  boot.push_back({options.profile_path.substr(1), act::dump_profile(profile), 0644});

  const std::string role = kRole;
  std::vector<ExportFile> out;
  out.push_back({"playbook.yml", yaml_file(profile, options, "ansible-playbook -i INVENTORY playbook.yml", kPlaybook), 0644});
  std::string defaults = kDefaults;
  defaults.replace(defaults.find("%WGOPT_PATH%"), 12, options.wgopt_path);
  if (std::none_of(units.begin(), units.end(), [](const ExportFile& f) { return f.path.ends_with("/wgopt-retune.timer"); })) {
    // A profile without evidence has no timer (retune refuses it): nothing to enable.
    const std::string on = "wgopt_retune_timer: true\n";
    defaults.replace(defaults.find(on), on.size(),
                     "# Off: this profile has no evidence (it was not written by `wgopt search`), so the role has no\n"
                     "# timer; `wgopt retune` refuses such a profile.\nwgopt_retune_timer: false\n");
  }
  out.push_back({role + "defaults/main.yml", yaml_file(profile, options, "the role's variables; override them in the inventory", defaults.c_str()), 0644});
  out.push_back({role + "vars/main.yml", vars_file(profile, options, boot, units, m.roles), 0644});
  const std::pair<const char*, const char*> tasks[] = {{"main.yml", kTasksMain}, {"gate.yml", kTasksGate}, {"install.yml", kTasksInstall},
                                                       {"apply.yml", kTasksApply}, {"systemd.yml", kTasksSystemd}, {"tuned.yml", kTasksTuned}};
  for (const auto& [name, body] : tasks) {
    out.push_back({role + "tasks/" + name, yaml_file(profile, options, "part of the wgopt role (playbook.yml runs it)", body), 0644});
  }
  out.push_back({role + "meta/main.yml", yaml_file(profile, options, "the role's metadata", kMeta), 0644});
  for (const auto* list : {&boot, &units}) {
    for (const auto& f : *list) out.push_back({role + "files/" + f.path, f.content, 0644});
  }
  return out;
}

}  // namespace wgopt::experiments
