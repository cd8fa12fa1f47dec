"""Tests for data/downloading/librispeech.py: subsets, transcripts, steps."""

import os
import shutil

import pytest

from data.downloading import common
from data.downloading import convert
from data.downloading import librispeech
from data.downloading import steps
from tests.data.downloading import fakes



def test_select_subsets_follows_the_original_priority():
  assert librispeech.select_subsets() == list(librispeech.SUBSETS)
  assert librispeech.select_subsets(train_only=True, dev_only=True) == [
      "train-clean-100", "train-clean-360", "train-other-500"]
  assert librispeech.select_subsets(dev_only=True, test_only=True) == [
      "dev-clean", "dev-other"]
  assert librispeech.select_subsets(test_only=True) == ["test-clean",
                                                        "test-other"]
  # --subsets wins and comes back in the canonical order.
  assert librispeech.select_subsets(["test-clean", "dev-clean"],
                                    train_only=True) == ["dev-clean",
                                                         "test-clean"]
  with pytest.raises(common.DownloadError, match="'dev-cleen'"):
    librispeech.select_subsets(["dev-cleen"])


def test_librispeech_transcripts_are_normalized_like_the_original():
  assert librispeech.normalize_librispeech_transcript(
      " HELLO  Wörld\tIT'S ") == "hello world it's"


def test_other_subset_names_need_a_mirror_of_ones_own():
  # Official names keep the original's order; others follow as given.
  assert librispeech.select_subsets(
      ["sample-dev", "dev-clean", "sample-train"], allow_other=True) == [
          "dev-clean", "sample-dev", "sample-train"]
  with pytest.raises(librispeech.UnknownSubsetError, match="mirror"):
    librispeech.select_subsets(["sample-dev"])
  for bad in ("../etc", "a/b", ".hidden"):
    with pytest.raises(common.DownloadError, match="letters"):
      librispeech.select_subsets([bad], allow_other=True)


def test_kept_archive_is_extracted_again_when_the_tree_was_deleted(
    tmp_path):
  mirror_dir = tmp_path / "mirror"
  mirror_dir.mkdir()
  fakes.make_librispeech_archive(str(mirror_dir), str(tmp_path / "src"),
                                 "dev-other")
  config = steps.DownloadConfig(
      base_url=mirror_dir.as_uri(), checksums={}, skip_checksum=True,
      keep_archives=True, num_workers=1, show_progress=False)
  data_dir = str(tmp_path / "data")
  manifest = librispeech.prepare_librispeech_subset(data_dir, "dev-other",
                                                    config)
  archive = os.path.join(data_dir, "dev-other", "dev-other.tar.gz")
  assert os.path.exists(archive)  # --keep_archives
  (mirror_dir / "dev-other.tar.gz").unlink()  # Nothing to download now.
  shutil.rmtree(os.path.join(data_dir, "dev-other", "LibriSpeech"))
  assert librispeech.prepare_librispeech_subset(data_dir, "dev-other",
                                                config) == manifest
  assert convert.manifest_is_complete(manifest)
