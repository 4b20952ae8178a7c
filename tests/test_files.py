"""Project YAML files that are missing or malformed give one clear error naming the file."""
import pytest

from perinatal_csc.config import ConfigError, load_config
from perinatal_csc.errors import UserError
from perinatal_csc.files import read_yaml


@pytest.mark.parametrize("content, message", [
    (b"data: [unclosed\n", "not valid YAML"),
    (b"- a\n- b\n", "expected a mapping"),
    (b"data: caf\xe9\n", "not UTF-8"),
])
def test_malformed_yaml_names_the_file_and_the_problem(tmp_path, content, message):
    p = tmp_path / "project.yml"
    p.write_bytes(content)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert message in str(e.value) and str(p) in str(e.value)


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="analysis plan not found"):
        read_yaml(tmp_path / "nope.yml", "analysis plan")


def test_empty_file_reads_as_empty_mapping(tmp_path):
    p = tmp_path / "empty.yml"
    p.write_text("")
    assert read_yaml(p, "thing") == {}


@pytest.mark.parametrize("value", ["42", 0, -3, 4.5, True])
def test_study_organisations_must_be_a_whole_number(tmp_path, value):
    p = tmp_path / "project.yml"
    p.write_text(f"study:\n  organisations: {value!r}\n" if isinstance(value, str) else
                 f"study:\n  organisations: {str(value).lower()}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="study.organisations must be a whole number") as e:
        load_config(p)
    assert str(p) in str(e.value)


def test_study_organisations_is_read_and_may_be_left_out(tmp_path):
    p = tmp_path / "project.yml"
    p.write_text("study:\n  organisations: 42\n", encoding="utf-8")
    assert load_config(p).organisations == 42
    p.write_text("data:\n  source: synthetic\n", encoding="utf-8")
    assert load_config(p).organisations is None


@pytest.mark.parametrize("commit", ["9900509e7019", "123456789012", "1e10", "true", "0x1f", "null"])
def test_metadata_for_pandoc_keeps_every_string_a_string(commit):
    """A short commit of digits and one 'e' is a string to PyYAML (YAML 1.1) but a number to pandoc (YAML 1.2):
    the metadata the renderers write must come back through pandoc as the same text."""
    import json

    import pypandoc
    import yaml

    from perinatal_csc.files import yaml_text

    def through_pandoc(front: str) -> str:
        """The value of ``commit`` as pandoc reads it: its text, or its YAML type when it is not text."""
        value = json.loads(pypandoc.convert_text("---\n" + front + "---\n\nText.\n", "json",
                                                 format="markdown"))["meta"]["commit"]
        if value["t"] != "MetaInlines":
            return value["t"]
        return "".join(i["c"] if i["t"] == "Str" else " " for i in value["c"])

    assert through_pandoc(yaml_text({"commit": commit, "flag": False})) == commit
    if commit == "9900509e7019":
        assert through_pandoc(yaml.safe_dump({"commit": commit})) != commit    # the way it failed
