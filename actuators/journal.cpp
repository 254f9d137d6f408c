#include "actuators/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actuators/lock.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"

namespace wgopt::act {

namespace {

std::string utc_now(const char* format) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("cannot open {} to sync it: {}", path, std::strerror(errno)));
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) throw Error(fmt::format("cannot fsync {}: {}", path, std::strerror(e)));
}

void write_all_durably(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(fmt::format("cannot write journal {}: {}", path, std::strerror(errno)));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      throw Error(fmt::format("cannot write journal {}: {}", path, std::strerror(e)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    throw Error(fmt::format("cannot fsync journal {}: {}", path, std::strerror(e)));
  }
  if (::close(fd) != 0) throw Error(fmt::format("cannot close journal {}: {}", path, std::strerror(errno)));
}

EntryState state_from(const std::string& s, const std::string& path) {
  if (s == "pending") return EntryState::Pending;
  if (s == "written") return EntryState::Written;
  if (s == "kept") return EntryState::Kept;
  if (s == "held") return EntryState::Held;
  throw Error(fmt::format("journal {} has an entry in unknown state '{}': inspect it, then move it away", path, s));
}

}  // namespace

const char* to_string(EntryState s) {
  switch (s) {
    case EntryState::Pending: return "pending";
    case EntryState::Written: return "written";
    case EntryState::Kept: return "kept";
    case EntryState::Held: return "held";
  }
  return "?";
}

std::string place_key(const Place& place) { return place.is_host() ? "host" : "netns:" + place.netns_name(); }

Place place_from_key(const std::string& key) {
  if (key == "host") return Place::host();
  if (key.starts_with("netns:")) return Place::netns(key.substr(6));
  throw Error(fmt::format("journal place '{}' is neither 'host' nor 'netns:NAME'", key));
}

JournalEntry* JournalData::find(const Place& place, const std::string& id) {
  for (auto& e : entries) {
    if (e.place == place && e.id == id) return &e;
  }
  return nullptr;
}

Journal::Journal(std::string dir) : dir_(std::move(dir)) {}

void Journal::load() {
  // A temp file is a write that never reached its rename: the journal it meant to replace is
  // still whole, so the temp is garbage.
  std::remove((path() + ".tmp").c_str());
  load_read_only();
}

void Journal::load_read_only() {
  data_ = JournalData{};
  // Only a journal that is not there is an empty one: one wgopt cannot read may hold originals
  // (found by an exploratory test: with WGOPT_STATE_DIR a file, or journal.json a directory,
  // rollback said "nothing to roll back", and then removed the directory).
  struct stat st {};
  if (::stat(path().c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    if (errno == ENOTDIR) {
      throw UsageError(fmt::format("state directory {} is not a directory: point WGOPT_STATE_DIR at a directory",
                                   one_line(dir_, 200)));
    }
    throw Error(fmt::format("cannot read journal {}: {}: it may hold original values; fix that, then run wgopt again",
                            one_line(path(), 200), std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    throw Error(fmt::format("journal {} is not a regular file: it may hold original values; inspect it, then move it "
                            "away to continue",
                            one_line(path(), 200)));
  }
  auto content = read_file(path());
  if (!content) {
    throw Error(fmt::format("cannot read journal {}: {}: it may hold original values; fix that, then run wgopt again",
                            one_line(path(), 200), std::strerror(errno)));
  }
  try {
    auto j = nlohmann::json::parse(*content);
    data_.boot_id = j.at("boot_id").get<std::string>();
    data_.net_ns = j.value("net_ns", "");
    data_.pid = j.at("pid").get<int>();
    data_.open = j.at("open").get<bool>();
    data_.updated = j.value("updated", "");
    for (const auto& e : j.at("entries")) {
      JournalEntry entry;
      entry.id = e.at("id").get<std::string>();
      entry.place = place_from_key(e.at("place").get<std::string>());
      entry.original = e.at("original").get<std::string>();
      entry.before = e.at("before").get<std::string>();
      entry.target = e.at("target").get<std::string>();
      entry.state = state_from(e.at("state").get<std::string>(), path());
      entry.companion = e.value("companion", false);
      entry.netns_id = e.value("netns_id", "");
      entry.instance = e.value("instance", "");
      data_.entries.push_back(std::move(entry));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("journal {} is damaged ({}): it may hold original values; inspect it, then move it "
                            "away to continue", one_line(path(), 200), e.what()));
  }
}

void Journal::save() {
  ensure_dir(dir_);
  if (data_.empty()) {
    if (std::remove(path().c_str()) != 0 && errno != ENOENT) {
      throw Error(fmt::format("cannot remove finished journal {}: {}", one_line(path(), 200), std::strerror(errno)));
    }
    fsync_path(dir_, O_RDONLY | O_DIRECTORY);
    return;
  }
  data_.updated = utc_now("%Y-%m-%dT%H:%M:%SZ");
  nlohmann::json j;
  j["version"] = 1;
  j["boot_id"] = data_.boot_id;
  if (!data_.net_ns.empty()) j["net_ns"] = data_.net_ns;
  j["pid"] = data_.pid;
  j["open"] = data_.open;
  j["updated"] = data_.updated;
  j["entries"] = nlohmann::json::array();
  for (const auto& e : data_.entries) {
    j["entries"].push_back({{"id", e.id},
                            {"place", place_key(e.place)},
                            {"original", e.original},
                            {"before", e.before},
                            {"target", e.target},
                            {"state", to_string(e.state)}});
    if (e.companion) j["entries"].back()["companion"] = true;
    if (!e.netns_id.empty()) j["entries"].back()["netns_id"] = e.netns_id;
    if (!e.instance.empty()) j["entries"].back()["instance"] = e.instance;
  }
  const std::string tmp = path() + ".tmp";
  try {
    write_all_durably(tmp, j.dump(2) + "\n");
  } catch (const Error& e) {  // a full disk left an empty .tmp and a message with no way out (found by an exploratory test)
    std::remove(tmp.c_str());
    throw Error(fmt::format("{}: free space in {} or point WGOPT_STATE_DIR at a writable directory (the journal keeps the "
                            "originals: nothing is changed without it)",
                            e.what(), one_line(dir_, 200)));
  }
  if (std::rename(tmp.c_str(), path().c_str()) != 0) {
    throw Error(fmt::format("cannot rename {} to {}: {}", one_line(tmp, 200), one_line(path(), 200), std::strerror(errno)));
  }
  fsync_path(dir_, O_RDONLY | O_DIRECTORY);
}

std::string Journal::record_copy(const std::string& tag) const {
  const auto content = read_file(path());
  if (!content) throw Error(fmt::format("cannot read journal {} to keep a copy: {}", one_line(path(), 200), std::strerror(errno)));
  std::string dest = fmt::format("{}/journal-{}-{}.json", dir_, utc_now("%Y%m%dT%H%M%SZ"), tag);
  for (int n = 2; ::access(dest.c_str(), F_OK) == 0; ++n) {
    dest = fmt::format("{}/journal-{}-{}-{}.json", dir_, utc_now("%Y%m%dT%H%M%SZ"), tag, n);
  }
  write_file_atomic(dest, *content, 0600);
  return dest;
}

std::string Journal::archive(const std::string& tag) {
  std::string dest = fmt::format("{}/journal-{}-{}.json", dir_, utc_now("%Y%m%dT%H%M%SZ"), tag);
  for (int n = 2; ::access(dest.c_str(), F_OK) == 0; ++n) {
    dest = fmt::format("{}/journal-{}-{}-{}.json", dir_, utc_now("%Y%m%dT%H%M%SZ"), tag, n);
  }
  if (std::rename(path().c_str(), dest.c_str()) != 0) {
    throw Error(fmt::format("cannot archive journal {} as {}: {}", one_line(path(), 200), one_line(dest, 200), std::strerror(errno)));
  }
  fsync_path(dir_, O_RDONLY | O_DIRECTORY);
  data_ = JournalData{};
  return dest;
}

}  // namespace wgopt::act
