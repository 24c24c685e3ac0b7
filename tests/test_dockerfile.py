"""No Docker engine runs here, so the Dockerfile is checked against what it must do: the README's
install steps, a non-root user, the model fetched at build time, a health check, the server."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_dockerfile_mirrors_the_readme_and_runs_safely():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install ." in readme and "pip wheel --no-cache-dir --wheel-dir /wheels ." in dockerfile
    assert "cleancut models fetch" in readme and "RUN cleancut models fetch" in dockerfile
    lines = [line.strip() for line in dockerfile.splitlines()]
    user = next(i for i, line in enumerate(lines) if line.startswith("USER "))
    assert lines[user] != "USER root" and user < next(i for i, line in enumerate(lines) if line.startswith("CMD "))
    assert any(line.startswith("HEALTHCHECK") for line in lines) and "/healthz" in dockerfile
    assert "EXPOSE 7000" in lines
    assert 'CMD ["cleancut", "s", "--host", "0.0.0.0", "--port", "7000"]' in lines
