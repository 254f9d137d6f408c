#include <catch2/catch.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/place.hpp"
#include "common/processes.hpp"
#include "common/util.hpp"
#include "tests/scratch_dir.hpp"

using namespace wgopt;
using namespace std::chrono_literals;

TEST_CASE("durations parse the way users type budgets") {
  CHECK(parse_duration("90s") == 90s);
  CHECK(parse_duration("5m") == 300s);
  CHECK(parse_duration("2h") == 7200s);
  CHECK(parse_duration("1h30m") == 5400s);
  CHECK(parse_duration("45") == 45s);
  CHECK(parse_duration("1.5h") == 5400s);
  CHECK_THROWS_AS(parse_duration("soon"), UsageError);
  CHECK_THROWS_AS(parse_duration("5x"), UsageError);
  CHECK_THROWS_AS(parse_duration("0s"), UsageError);
  CHECK_THROWS_AS(parse_duration("1h30"), UsageError);
  CHECK_THROWS_WITH(parse_duration("soon", "--budget"), Catch::Contains("--budget") && Catch::Contains("5m"));
}

TEST_CASE("interface and namespace names are validated before they reach a command") {
  CHECK(is_valid_ifname("eth0"));
  CHECK(is_valid_ifname("wg-srv.1_a"));
  CHECK(is_valid_ifname("abcdefghijklmno"));    // 15
  CHECK_FALSE(is_valid_ifname("abcdefghijklmnop"));  // 16
  CHECK_FALSE(is_valid_ifname(""));
  CHECK_FALSE(is_valid_ifname("eth0;rm"));
  CHECK_FALSE(is_valid_ifname("../x"));
  CHECK_FALSE(is_valid_ifname(".."));
  CHECK_FALSE(is_valid_ifname("a b"));
  CHECK_THROWS_AS(require_valid_ifname("eth 0"), UsageError);
  CHECK_THROWS_AS(Place::netns("a/b"), UsageError);
  CHECK(Place::netns("wgopt-cli").wrap({"ip", "link"}) ==
        std::vector<std::string>{"ip", "netns", "exec", "wgopt-cli", "ip", "link"});
  CHECK(Place::host().wrap({"ip", "link"}) == std::vector<std::string>{"ip", "link"});
}

TEST_CASE("RootedFiles reads and writes below its root and reports errors with path and value") {
  const wgopt::test::ScratchDir scratch("wgopt-test-files");
  const std::filesystem::path root = scratch.dir;
  std::filesystem::create_directories(root / "proc/sys/net/core");
  { std::ofstream(root / "proc/sys/net/core/netdev_max_backlog") << "1000\n"; }
  RootedFiles f(root.string());
  CHECK(f.read("/proc/sys/net/core/netdev_max_backlog") == "1000\n");
  f.write("/proc/sys/net/core/netdev_max_backlog", "5000");
  CHECK(f.read("/proc/sys/net/core/netdev_max_backlog") == "5000");
  CHECK(f.exists("/proc/sys/net/core/netdev_max_backlog"));
  CHECK(f.list("/proc/sys/net/core") == std::vector<std::string>{"netdev_max_backlog"});
  CHECK_FALSE(f.read("/proc/sys/net/core/missing").has_value());
  // Never creates a kernel file that is not there.
  CHECK_THROWS_WITH(f.write("/proc/sys/net/core/missing", "1"),
                    Catch::Contains("/proc/sys/net/core/missing") && Catch::Contains("'1'") &&
                        Catch::Contains("No such file"));
  CHECK_FALSE(f.exists("/proc/sys/net/core/missing"));
  CHECK_THROWS_AS(f.resolve("/proc/../etc/passwd"), Error);
}

TEST_CASE("a kernel write error is reported with path, value and errno text") {
  // /proc/sys/net/core/netdev_max_backlog rejects a non-number with EINVAL as root; without root
  // the open fails first with EACCES. Either way the message names path, value and errno text.
  RootedFiles f("/");
  const char* why = ::geteuid() == 0 ? "Invalid argument" : "Permission denied";
  CHECK_THROWS_WITH(f.write("/proc/sys/net/core/netdev_max_backlog", "lots"),
                    Catch::Contains("netdev_max_backlog") && Catch::Contains("'lots'") && Catch::Contains(why));
}

TEST_CASE("write_file_atomic replaces a file whole, with its mode, and leaves it alone on failure") {
  namespace fs = std::filesystem;
  const wgopt::test::ScratchDir scratch("wgopt-atomic-test");
  const fs::path dir = scratch.dir;
  const std::string path = (dir / "f.prom").string();
  wgopt::write_file_atomic(path, "first\n", 0600);
  wgopt::write_file_atomic(path, "second\n", 0644);
  CHECK(wgopt::read_file(path) == std::optional<std::string>("second\n"));
  CHECK((fs::status(path).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write |
                                                             fs::perms::group_read | fs::perms::others_read));
  CHECK_FALSE(fs::exists(path + ".wgopt-tmp"));
  try {
    wgopt::write_file_atomic((dir / "missing" / "x").string(), "y", 0644);
    FAIL("writing into a missing directory did not throw");
  } catch (const wgopt::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("cannot write " + (dir / "missing" / "x").string()));
  }
  CHECK(wgopt::read_file(path) == std::optional<std::string>("second\n"));
}

TEST_CASE("write_files_all_or_nothing writes the set, or on a failure leaves none of it") {
  namespace fs = std::filesystem;
  const wgopt::test::ScratchDir scratch("wgopt-all-or-nothing-test");
  const fs::path dir = scratch.dir;
  wgopt::write_file_atomic((dir / "old").string(), "old\n", 0644);
  wgopt::write_files_all_or_nothing({{(dir / "a/b/one").string(), "1\n", 0755}, {(dir / "old").string(), "new\n", 0644}});
  CHECK(wgopt::read_file((dir / "a/b/one").string()) == std::optional<std::string>("1\n"));
  CHECK((fs::status(dir / "a/b/one").permissions() & fs::perms::owner_exec) != fs::perms::none);
  CHECK(wgopt::read_file((dir / "old").string()) == std::optional<std::string>("new\n"));
  // The third file's directory cannot be made (a file is in the way): the first two stay unwritten,
  // the directories made for them are gone, no temporary is left.
  wgopt::write_file_atomic((dir / "blocker").string(), "x\n", 0644);
  try {
    wgopt::write_files_all_or_nothing({{(dir / "c/d/two").string(), "2\n", 0644},
                                       {(dir / "old").string(), "newer\n", 0644},
                                       {(dir / "blocker/three").string(), "3\n", 0644}});
    FAIL("a file under a file was written");
  } catch (const wgopt::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("cannot write " + (dir / "blocker/three").string() + ": Not a directory"));
  }
  CHECK_FALSE(fs::exists(dir / "c"));
  CHECK(wgopt::read_file((dir / "old").string()) == std::optional<std::string>("new\n"));
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) names.push_back(e.path().lexically_relative(dir).string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"a", "a/b", "a/b/one", "blocker", "old"});

  // Found by an exploratory test (`export --force` over a tree where one target is a directory): the
  // last rename fails after the others succeeded; they are put back, the replaced file from its link.
  fs::create_directories(dir / "adir");
  try {
    wgopt::write_files_all_or_nothing({{(dir / "e/f/four").string(), "4\n", 0644},
                                       {(dir / "old").string(), "newest\n", 0644},
                                       {(dir / "adir").string(), "5\n", 0644}});
    FAIL("a file was renamed over a directory");
  } catch (const wgopt::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("cannot write " + (dir / "adir").string()));
  }
  CHECK(wgopt::read_file((dir / "old").string()) == std::optional<std::string>("new\n"));
  CHECK_FALSE(fs::exists(dir / "e"));
  names.clear();
  for (const auto& e : fs::recursive_directory_iterator(dir)) names.push_back(e.path().lexically_relative(dir).string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"a", "a/b", "a/b/one", "adir", "blocker", "old"});
}

TEST_CASE("one_line shows outside text on one visible line of valid UTF-8") {
  using namespace std::string_literals;
  CHECK(one_line("plain /var/lib/wgopt/s.sqlite é 日本") == "plain /var/lib/wgopt/s.sqlite é 日本");
  CHECK(one_line("a\nb\rc\td\\e") == "a\\nb\\rc\\td\\\\e");
  CHECK(one_line("nul\0 esc\x1b del\x7f"s) == "nul\\x00 esc\\x1b del\\x7f");
  // C1 controls and the Unicode line and paragraph separators (line breaks to YAML 1.1 and Python).
  CHECK(one_line("\xc2\x85|\xe2\x80\xa8|\xe2\x80\xa9") == "\\u0085|\\u2028|\\u2029");
  // Bytes that are not UTF-8: stray, truncated, overlong, a surrogate.
  CHECK(one_line("\xff|\xe2\x80|\xc0\xaf|\xed\xa0\x80") == "\\xff|\\xe2\\x80|\\xc0\\xaf|\\xed\\xa0\\x80");
  CHECK(one_line(std::string(300, 'a'), 4) == "aaaa... (300 bytes)");
  CHECK(is_one_line("Standard_D4s_v5 é \\"));
  CHECK_FALSE(is_one_line("a\nb"));
  CHECK_FALSE(is_one_line("a\0b"s));
  CHECK_FALSE(is_one_line("a\xe2\x80\xa8"));
  CHECK_FALSE(is_one_line("a\xff"));
  // A message that names such text stays one line.
  CHECK_THROWS_WITH(require_valid_ifname("eth0\nx"), Catch::Contains("interface name 'eth0\\nx' is not valid"));
  CHECK_THROWS_WITH(parse_duration("5m\n;x", "--budget"), Catch::Contains("--budget '5m\\n;x' is not a duration"));
}

TEST_CASE("process_alive tells a running process from a zombie and from a reused pid", "[faults]") {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  const long long start = process_start_time(child);
  REQUIRE(start > 0);
  CHECK(process_alive(child, start));
  CHECK_FALSE(process_alive(child, start + 1));  // same pid, another start time: another process
  ::kill(child, SIGKILL);
  for (int i = 0; i < 100 && process_alive(child, start); ++i) ::usleep(10000);
  CHECK_FALSE(process_alive(child, start));  // a zombie (not reaped yet) is dead
  CHECK(process_start_time(child) == start);  // ... though its /proc entry is still there
  ::waitpid(child, nullptr, 0);
  CHECK(process_start_time(child) == -1);
}

TEST_CASE("flock_holders: the holder of a file's flock, from /proc/locks, also where stat's device differs (btrfs)") {
  test::ScratchDir d("wgopt-flock");
  const std::string file = d / "study.sqlite";
  std::ofstream(file) << "x";
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  // A proc tree of our own: /proc/locks lines, and one process's open files.
  const std::string proc = d / "proc";
  std::filesystem::create_directories(proc + "/4242/fd");
  auto locks = [&](unsigned maj, unsigned min) {
    std::ofstream(proc + "/locks") << fmt::format("1: FLOCK  ADVISORY  WRITE 4242 {:02x}:{:02x}:{} 0 EOF\n"
                                                  "1: -> FLOCK  ADVISORY  WRITE 5151 {:02x}:{:02x}:{} 0 EOF\n",
                                                  maj, min, st.st_ino, maj, min, st.st_ino);
  };
  locks(major(st.st_dev), minor(st.st_dev));
  CHECK(flock_holders(fd, proc) == std::vector<int>{4242});  // the waiter ("->") holds nothing
  // btrfs: /proc/locks names the superblock's device, stat a subvolume's. The holder is found
  // through its open files only.
  locks(major(st.st_dev) + 1, minor(st.st_dev));
  CHECK(flock_holders(fd, proc).empty());
  std::filesystem::create_symlink(file, proc + "/4242/fd/7");
  CHECK(flock_holders(fd, proc) == std::vector<int>{4242});
  CHECK(flock_holder(fd, proc) == 4242);
  // The real /proc: a flock this process takes is found, with its pid.
  CHECK(flock_holder(fd) == 0);
  REQUIRE(::flock(fd, LOCK_EX) == 0);
  CHECK(flock_holder(fd) == ::getpid());
  ::close(fd);
}
