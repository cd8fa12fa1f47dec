"""Tests for data/downloading/uqm_apt.py: the mirror and the private options.

The fetch itself runs against fake apt-get and dpkg in test_uqm.py.
"""

import os

import pytest

from data.downloading import uqm_apt


def _sources(tmp_path, deb822=None, one_line=None):
  parts = tmp_path / "sources.list.d"
  parts.mkdir()
  if deb822 is not None:
    (parts / "debian.sources").write_text(deb822)
  listing = tmp_path / "sources.list"
  if one_line is not None:
    listing.write_text(one_line)
  return str(listing), str(parts)


def test_system_mirror_reads_deb822_and_skips_update_suites(tmp_path):
  paths = _sources(tmp_path, deb822=(
      "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\n"
      "Types: deb\n# a comment: here\nURIs: http://mirror.example/debian\n"
      "Suites: bookworm-updates bookworm\nComponents: main\n"
      "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"))
  assert uqm_apt.system_mirror(*paths) == (
      "http://mirror.example/debian", "bookworm",
      "/usr/share/keyrings/debian-archive-keyring.gpg")


def test_system_mirror_reads_a_one_line_sources_list(tmp_path):
  paths = _sources(tmp_path, one_line=(
      "# deb http://old.example/debian buster main\n"
      "deb http://security.example/debian-security bookworm-security main\n"
      "deb [arch=amd64 signed-by=/k.gpg] http://m.example/debian trixie "
      "main\n"))
  assert uqm_apt.system_mirror(*paths) == (
      "http://m.example/debian", "trixie", "/k.gpg")


def test_system_mirror_without_a_release_source_is_one_sentence(tmp_path):
  paths = _sources(tmp_path, one_line="deb-src http://m.example/debian sid\n")
  with pytest.raises(uqm_apt.FetchError) as error:
    uqm_apt.system_mirror(*paths)
  assert str(error.value) == (
      "found no Debian release source in %s or %s to fetch uqm-voice and "
      "uqm-content from." % paths)


@pytest.mark.parametrize("signed_by, line", [
    ("/k.gpg", "deb [signed-by=/k.gpg] http://m.example/debian bookworm "
               "contrib non-free\n"),
    (None, "deb http://m.example/debian bookworm contrib non-free\n")])
def test_private_sources_line(signed_by, line):
  assert uqm_apt.private_sources_line(
      "http://m.example/debian", "bookworm", signed_by) == line


def test_apt_options_keep_everything_under_the_private_folder():
  assert uqm_apt.apt_options("/d/apt") == [
      "-o", "Dir::Etc::sourcelist=/d/apt/sources.list",
      "-o", "Dir::Etc::sourceparts=/dev/null",
      "-o", "Dir::State::Lists=/d/apt/lists",
      "-o", "Dir::Cache=/d/apt/cache"]


def test_apt_options_are_absolute_for_a_relative_data_dir(tmp_path,
                                                          monkeypatch):
  # apt-get download runs in the .debs' folder: a relative folder there
  # named lists that do not exist ("Unable to locate package").
  monkeypatch.chdir(tmp_path)
  options = uqm_apt.apt_options(os.path.join("demo_data", "apt"))
  paths = [o.split("=", 1)[1] for o in options[1::2]]
  assert all(os.path.isabs(p) for p in paths)
  assert paths[2] == str(tmp_path / "demo_data" / "apt" / "lists")


def test_find_packages_in_a_dpkg_x_tree(tmp_path):
  content = tmp_path / "usr/share/games/uqm/content"
  (content / "addons").mkdir(parents=True)
  (content / "packages").mkdir()
  (content / "addons" / "uqm-0.8.0-voice.uqm").write_bytes(b"")
  (content / "packages" / "uqm-0.8.0-content.uqm").write_bytes(b"")
  assert uqm_apt.find_packages(str(tmp_path)) == (
      str(content / "addons" / "uqm-0.8.0-voice.uqm"),
      str(content / "packages" / "uqm-0.8.0-content.uqm"))
  assert uqm_apt.find_packages(str(content / "addons")) is None
