"""Bad releases: one clear error naming file/line/id, a non-zero exit, and the previous copy intact."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from converter_fixtures import write_emocomics35_csv, write_emorecom_release

from comic_emotion.cli.main import main
from comic_emotion.converters import get_converter
from comic_emotion.converters.archive import extract_archive
from comic_emotion.converters.base import prepare
from comic_emotion.converters.emorecom_submission import LABELS, read_submission
from comic_emotion.storage import read_manifest


@pytest.fixture()
def prepared(tmp_path):
    """A good prepared emorecom copy, and the release it came from."""
    write_emorecom_release(tmp_path / "rel")
    manifest = prepare(get_converter("emorecom"), tmp_path / "rel", tmp_path / "data")
    return tmp_path / "rel", tmp_path / "data", manifest


def _breaks(release: Path, data: Path, manifest: dict, capsys, match: str) -> None:
    code = main(["data", "prepare", "emorecom", "--source", str(release), "--data-root", str(data)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and err.startswith("comic-emotion: error: "), err
    assert match in err, err
    assert read_manifest(data / "emorecom") == manifest  # the previous copy survives
    assert [p.name for p in data.iterdir()] == ["emorecom"]  # no staging directory left behind


def test_missing_file_names_it_and_where_to_obtain_it(prepared, capsys):
    release, data, manifest = prepared
    (release / "train_transcriptions.json").unlink()
    _breaks(release, data, manifest, capsys, "required file 'train_transcriptions.json' not found in the release; "
            "the EmoRecCom files come from the ICDAR 2021 challenge organisers")


def test_wrong_label_columns(prepared, capsys):
    release, data, manifest = prepared
    path = release / "train_emotion_labels.csv"
    path.write_text(path.read_text().replace("neutral,other", "neutral,others"))
    _breaks(release, data, manifest, capsys, "train_emotion_labels.csv: line 1: label columns")


def test_label_not_in_the_label_set(prepared, capsys):
    release, data, manifest = prepared
    path = release / "train_emotion_labels.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2][: lines[2].rfind(",")] + ",2"
    path.write_text("\n".join(lines) + "\n")
    _breaks(release, data, manifest, capsys, "train_emotion_labels.csv: line 3: image_id 1000_0_1: label 'other' is '2'")


def test_malformed_json_element(prepared, capsys):
    release, data, manifest = prepared
    path = release / "train_transcriptions.json"
    path.write_text(path.read_text().replace('"img_id": "1000_0_2"}', '"img_id": "1000_0_2"'))
    _breaks(release, data, manifest, capsys, "train_transcriptions.json: line 1: element 2 is not valid JSON")


def test_image_referenced_but_absent(prepared, capsys):
    release, data, manifest = prepared
    (release / "images" / "1000_0_3.jpg").unlink()
    _breaks(release, data, manifest, capsys, "image 1000_0_3.jpg is referenced but absent")


def test_duplicate_ids(prepared, capsys):
    release, data, manifest = prepared
    path = release / "train_transcriptions.json"
    items = json.loads(path.read_text())
    items.append(items[0])
    path.write_text(json.dumps(items))
    _breaks(release, data, manifest, capsys, "element 4: duplicate img_id 1000_0_0")


def test_emocomics35_bad_label_names_line_and_utterance(tmp_path):
    csv_path = tmp_path / "emocomics35_pg_images_original.csv"
    write_emocomics35_csv(csv_path)
    csv_path.write_text(csv_path.read_text(encoding="utf-8").replace("'Joy'", "'Happy'"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 3: PageEmotions\[0\]: label 'Happy' is not one of Anger"):
        prepare(get_converter("emocomics35"), csv_path, tmp_path / "data")


def _zip_with(path: Path, name: str) -> Path:
    with zipfile.ZipFile(path, "w") as handle:
        handle.writestr("release/ok.txt", "fine")
        handle.writestr(name, "escape")
    return path


@pytest.mark.parametrize("name, problem", [("../evil.txt", "path contains '..'"), ("/tmp/evil.txt", "absolute path")])
def test_zip_members_escaping_the_target_are_refused(tmp_path, name, problem):
    archive = _zip_with(tmp_path / "bad.zip", name)
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError, match=f"member '{name}': {problem}"):
        extract_archive(archive, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == [] and not (tmp_path / "evil.txt").exists()


def test_tar_symlink_out_of_the_archive_is_refused(tmp_path):
    archive = tmp_path / "bad.tar.gz"
    with tarfile.open(archive, "w:gz") as handle:
        link = tarfile.TarInfo("release/link")
        link.type, link.linkname = tarfile.SYMTYPE, "../../etc/passwd"
        handle.addfile(link)
    with pytest.raises(ValueError, match="member 'release/link' is a link to '../../etc/passwd' outside"):
        extract_archive(archive, tmp_path)


def test_prepare_from_a_tar_archive_equals_the_directory(tmp_path):
    write_emorecom_release(tmp_path / "rel")
    archive = tmp_path / "emorecom.tar.gz"
    with tarfile.open(archive, "w:gz") as handle:
        handle.add(tmp_path / "rel", arcname="EmoRecCom")
    from_dir = prepare(get_converter("emorecom"), tmp_path / "rel", tmp_path / "a", today="x")
    from_tar = prepare(get_converter("emorecom"), archive, tmp_path / "b", today="x")
    assert from_dir == from_tar


def test_cli_list_says_real_or_demo(prepared, capsys):
    _, data, _ = prepared
    assert main(["data", "list", "--data-root", str(data), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    real = [r for r in rows if r["dataset"] == "emorecom"]
    assert [(r["split"], r["source"], r["rows"]) for r in real] == [("test", "real", 2), ("train", "real", 4)]
    assert all(r["source"] != "real" for r in rows if r["dataset"] != "emorecom")


# --- EmoRecCom submissions ------------------------------------------------------------------------

IDS = ["1000_4_6", "1000_5_1", "1003_33_2", "1004_29_6"]
SCORES = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
                   [0.0] * 8, [0.125] * 8])


def _official(rows: list[int] = (0, 1, 2, 3)) -> str:
    return "".join(f"{i},{IDS[i]}," + ",".join(repr(float(v)) for v in SCORES[i]) + "\n" for i in rows)


@pytest.mark.parametrize("text", [
    _official(),
    _official([3, 1, 0, 2]),  # any row order
    ",row_index,image_id," + ",".join(LABELS) + "\n" + "".join(f"{i}," + line for i, line in enumerate(_official().splitlines(True))),
    "image_id," + ",".join(LABELS[:-1]) + ",Others\n" + "".join(line.split(",", 1)[1] for line in _official().splitlines(True)),
    "0.1" + _official()[1:],  # a first index written 0.1
    _official().replace("0.125", "1.25e-01"),  # scientific notation
])
def test_submission_variants_read_alike(tmp_path, text):
    path = tmp_path / "results.csv"
    path.write_text(text)
    ids, scores = read_submission(path, IDS)
    assert ids == IDS
    np.testing.assert_array_equal(scores, SCORES)


@pytest.mark.parametrize("text, match", [
    (_official([0, 1, 2]), r"1 image\(s\) of the split have no row, e.g. 1004_29_6"),
    (_official() + _official([0]), "line 5: image 1000_4_6 appears twice"),
    (_official().replace("0.3,", "nan,", 1), "line 1: image 1000_4_6: score for 'fear' is 'nan'"),
    (_official().replace("1003_33_2", "1003_33_9"), "line 3: image 1003_33_9 is not in the prepared split"),
    ("0,1000_4_6,0.1,0.2\n", "line 1: 2 score cells after the image id, expected 8"),
])
def test_bad_submissions_name_the_line(tmp_path, text, match):
    path = tmp_path / "results.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_submission(path, IDS)


def test_tar_data_filter_is_used(tmp_path):
    # A device file would be created by a plain extractall; the "data" filter refuses it.
    archive = tmp_path / "dev.tar"
    with tarfile.open(archive, "w") as handle:
        info = tarfile.TarInfo("release/null")
        info.type = tarfile.CHRTYPE
        handle.addfile(info, io.BytesIO())
    with pytest.raises(tarfile.TarError), tarfile.open(archive) as handle:
        handle.extractall(tmp_path / "x", filter="data")
    with pytest.raises(ValueError, match="not a readable tar archive"):
        extract_archive(archive, tmp_path / "y")
