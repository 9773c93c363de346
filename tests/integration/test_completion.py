# SPDX-License-Identifier: MIT
"""hq generate-completion and hq doc (spec 1.11)."""
import os
import shutil
import subprocess

import pytest

from conftest import HQ_BIN

SHELLS = ["bash", "elvish", "fish", "powershell", "zsh"]




@pytest.mark.parametrize("shell", SHELLS)
def test_completion_scripts_for_every_shell(hq, shell):
    r = hq.command(["generate-completion", shell])
    assert r.stderr == f"Generating completion file for {shell}...\n"
    assert len(r.stdout) > 1000
    # Generated from the command table and each command's options.
    for word in ("submit-file", "generate-access", "explain", "task-ids",
                 "without-close", "client-port", "each-line"):
        assert word in r.stdout, word
    # JSON mode does not wrap the script.
    r2 = hq.command(["--output-mode", "json", "generate-completion", shell])
    assert r2.stdout == r.stdout


def test_completion_errors(hq):
    r = hq.command(["generate-completion", "tcsh"], check=False)
    assert r.rc == 1
    assert "invalid value 'tcsh'" in r.stderr
    assert "bash, elvish, fish, powershell, zsh" in r.stderr
    r = hq.command(["generate-completion"], check=False)
    assert r.rc == 1 and "<SHELL>" in r.stderr
    # There is no `hq completion` (spec 4 item 1).
    r = hq.command(["completion", "bash"], check=False)
    assert r.rc == 1 and "unrecognized subcommand 'completion'" in r.stderr


def bash_complete(script, words):
    prog = (f"source {script}\n"
            "COMP_WORDS=(\"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]}-1))\n"
            "_hq; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    r = subprocess.run(["bash", "-c", prog, "bash"] + words,
                       capture_output=True, text=True, check=True)
    return sorted(w for w in r.stdout.split("\n") if w)


def test_completion_bash_completes(hq):
    script = hq.tmp / "hq.bash"
    script.write_text(hq.command(["generate-completion", "bash"]).stdout)
    assert bash_complete(script, ["hq", "jo"]) == ["job", "journal"]
    assert bash_complete(script, ["hq", "job", "sub"]) == \
        ["submit", "submit-file"]
    assert bash_complete(script, ["hq", "job", "list", "--v"]) == \
        ["--verbose"]
    assert bash_complete(script, ["hq", "--colors", ""]) == \
        ["always", "auto", "never"]
    assert bash_complete(script, ["hq", "--server-dir", "/x", "server",
                                  "generate-access", "--client-"]) == \
        ["--client-file", "--client-host", "--client-port"]
    assert bash_complete(script, ["hq", "job", "cat", "1", "s"]) == \
        ["stderr", "stdout"]
    assert bash_complete(script, ["hq", "generate-completion", ""]) == \
        sorted(SHELLS)
    assert bash_complete(script, ["hq", "submit", "--pin", ""]) == \
        ["omp", "taskset"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh not installed")
def test_completion_zsh_script_parses(hq):
    script = hq.tmp / "_hq"
    script.write_text(hq.command(["generate-completion", "zsh"]).stdout)
    subprocess.run(["zsh", "-n", str(script)], check=True)
    r = subprocess.run(["zsh", "-f", "-c",
                        f"autoload -U compinit && compinit -u && "
                        f"source {script} && print -r -- $_comps[hq]"],
                       capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "_hq"


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish not installed")
def test_completion_fish_completes(hq):
    script = hq.tmp / "hq.fish"
    script.write_text(hq.command(["generate-completion", "fish"]).stdout)

    def complete(line):
        r = subprocess.run(["fish", "-c", f"source {script}; "
                            f"complete -C '{line}'"],
                           capture_output=True, text=True, check=True)
        return sorted(ln.split("\t")[0] for ln in r.stdout.splitlines())

    assert complete("hq job l") == ["list"]
    assert complete("hq --colors ") == ["always", "auto", "never"]
    assert complete("hq task explain --") == sorted(
        ["--colors", "--debug", "--help", "--output-mode", "--server-dir"])


def test_doc_points_at_our_docs(hq):
    r = hq.command(["doc"])
    url = r.stdout.strip()
    assert url.startswith("file://") and url.endswith("/README.md")
    root = url[len("file://"):-len("/README.md")]
    assert os.path.isdir(os.path.join(root, "docs"))
    url = hq.command(["doc", "faq"]).stdout.strip()
    assert url == f"file://{root}/docs/COMPATIBILITY.md"
    assert os.path.isfile(url[len("file://"):])
    assert hq.command(["doc", "slurm"]).stdout.strip() == \
        f"file://{root}/README.md#automatic-allocation"
    assert hq.json(["doc", "jobs"]) == {"url": f"file://{root}/README.md#jobs"}
    r = hq.command(["doc", "manual"], check=False)
    assert r.rc == 1 and "invalid value 'manual'" in r.stderr
    assert "python-api" in r.stderr


def test_doc_open_runs_xdg_open(hq):
    bindir = hq.tmp / "bin"
    bindir.mkdir()
    log = hq.tmp / "opened"
    opener = bindir / "xdg-open"
    opener.write_text(f"#!/bin/sh\necho \"$1\" > {log}\n")
    opener.chmod(0o755)
    env = {"PATH": f"{bindir}:{os.environ.get('PATH', '')}"}
    r = hq.command(["doc", "--open", "workers"], env=env)
    assert r.stdout == ""
    assert log.read_text().strip().endswith("/README.md#workers")
    opener.write_text("#!/bin/sh\nexit 3\n")
    r = hq.command(["doc", "--open"], env=env, check=False)
    assert r.rc == 1 and "Cannot open file://" in r.stderr
    r = hq.command(["doc", "--open"], env={"PATH": str(hq.tmp / "none")},
                   check=False)
    assert r.rc == 1 and "xdg-open" in r.stderr
