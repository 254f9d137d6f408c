#pragma once
// Retune keeps the boot files true (issue 12): when `wgopt retune` replaces a profile (exit 10), the
// exported files a reboot applies (sysctl.d, the tuning script, the .link, the units) are rendered
// again from the new profile, so the next boot puts the new winner back, not the old one. Which
// files, and with which interface roles, the boot-files manifest next to the profile says
// (ROOT/etc/wgopt/boot-files.yaml, export_manifest.hpp; ROOT is / on a host). The files they replace
// are kept beside P.prev as P.prev-files/PATH, so `cp -r P.prev-files/. ROOT/` with P.prev rolls
// both back.
#include <string>
#include <vector>

namespace wgopt::experiments {

struct BootFilesUpdate {
  std::string manifest;               // the manifest read ("" when there is none)
  std::string root;                   // the directory the paths are relative to
  std::vector<std::string> written;   // files rewritten (absolute)
  std::vector<std::string> kept;      // their previous versions (absolute, under P.prev-files/)
  std::vector<std::string> removed;   // files whose format the new profile leaves nothing to hold (absolute)
  std::vector<std::string> disabled;  // the enablement links of the removed units (*.wants/NAME), removed too
  std::vector<std::string> enabled;   // the links made for units written where none was (their WantedBy=)
  bool units_changed = false;         // a unit file written or removed: systemd must reload them
  std::string note;                   // why nothing was done, when nothing was
};

// Re-renders the boot files of `profile_path` (just written by the retune) after the manifest beside
// it (rerender_boot_files: TuneD's child profile where it is installed, with its parents; a file whose
// format has nothing left to hold is removed, its old content kept like the others'). The files are written all or none (common/files.hpp write_files_all_or_nothing), their previous
// contents first saved under PROFILE.prev-files/ (all or none too); a unit whose lines other than
// comments did not change is left as it is (no daemon-reload needed for a new score in its header).
// A removed unit's enablement links go with it, and a unit written where none was gets them from its
// WantedBy= (as `systemctl enable` makes them); the caller reloads systemd (units_changed).
// No manifest, or a profile not in ROOT/etc/wgopt/: nothing is written and `note` says so. Throws
// Error naming the file when one cannot be written (then none of the new ones is), UsageError for a
// bad manifest.
BootFilesUpdate update_boot_files(const std::string& profile_path);

}  // namespace wgopt::experiments
