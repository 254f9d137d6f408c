#pragma once
// Small shared helpers: durations users type, root checks, string trimming, the boot id.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace wgopt {

// "90s", "5m", "2h", "1h30m", "45" (seconds), "1.5h". Throws UsageError naming `what` on bad input.
std::chrono::milliseconds parse_duration(const std::string& text, const std::string& what = "duration");
// "1h 02m 05s", "4m 10s", "12s", "0.8s"
std::string format_duration(std::chrono::duration<double> d);

// Throws Error("<action> needs root: re-run as root (sudo wgopt ...)") unless euid is 0.
void require_root(const std::string& action);

std::string trim(const std::string& s);
std::vector<std::string> split_ws(const std::string& s);            // on any whitespace, no empties
std::vector<std::string> split(const std::string& s, char sep);      // keeps empties
std::vector<std::string> split_lines(const std::string& s);          // no trailing empty line

// `s` as one line of valid UTF-8 with nothing a reader takes as a line break or a terminal control:
// a backslash as \\, newline, CR and tab as \n \r \t, other C0 controls and DEL as \xNN, C1 controls
// and U+2028/U+2029 (line breaks to YAML 1.1 and Python) as \uNNNN, bytes that are not UTF-8 as \xNN.
// Over `max` bytes, the first `max` are shown and "... (N bytes)" follows. For any text from outside
// (a profile, a file name, an option) that goes into a message, a comment or a header line.
std::string one_line(std::string_view s, size_t max = std::string_view::npos);
// True when one_line() would show `s` as it is, backslashes aside: valid UTF-8 without controls.
bool is_one_line(std::string_view s);
// `s` as it is when is_one_line(s), else as one_line() shows it: for text that is usually plain
// but comes from outside (a report's cells and header: host facts a peer reported, a SKU), where
// a control character would reach the terminal (an escape sequence sets its title or clears it).
std::string plain_or_one_line(std::string_view s);

// The current time in UTC through strftime(fmt): "%Y%m%d-%H%M%S" for file names, "%Y-%m-%dT%H:%M:%SZ".
std::string utc_stamp(const char* fmt);
// The same for a given Unix time (seconds).
std::string utc_stamp(const char* fmt, double unix_seconds);
// /proc/sys/kernel/random/boot_id (under `proc_root`), trimmed; empty if unreadable.
std::string boot_id(const std::string& proc_root = "/proc");
// The network namespace this process runs in: "net:[4026531840] cookie 1", the kernel's name from
// PROC_ROOT/self/ns/net and its netns cookie (SO_NETNS_COOKIE), which is never reused within a boot
// while the inode number is (a testbed taken down and up again gets the old numbers); empty if
// unreadable, without " cookie N" where the kernel has no cookies. "The host" of a journal entry.
std::string own_net_namespace(const std::string& proc_root = "/proc");
// The namespace named `name` under RUN_NETNS (`ip netns add NAME`) in own_net_namespace's form,
// "net:[N] cookie C" (the cookie read from a socket a short-lived thread makes there); "" when there
// is no such namespace.
std::string named_net_namespace(const std::string& name, const std::string& run_netns = "/run/netns");
// Whether two ids of that form name one namespace: by cookie when both have one (an inode number
// is reused within a boot), else by inode.
bool same_net_namespace(const std::string& a, const std::string& b);
// The name `ip netns` gives the namespace `id` (own_net_namespace's form; its "net:[N]" is matched)
// when one of RUN_NETNS's entries is it ("" when none is: the initial namespace, or an unnamed one).
std::string netns_name_of(const std::string& id, const std::string& run_netns = "/run/netns");
// Field 22 of /proc/PID/stat (start time in clock ticks since boot), which tells a process from a
// later one that reuses its pid; -1 if the process is gone.
long long process_start_time(int pid);
// True while `pid` runs with that start time: not gone, not a zombie, not a later process that
// reuses the pid.
bool process_alive(int pid, long long start_time);

}  // namespace wgopt
