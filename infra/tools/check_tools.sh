#!/usr/bin/env bash
# The tools `make demo` and `make test` need, checked before anything is installed, with a
# message that says what to install. Usage: check_tools.sh demo|test
set -euo pipefail

missing=()

# need NAME VERSION-COMMAND MINIMUM HOW-TO-INSTALL
need() {
    local name=$1 command=$2 minimum=$3 install=$4 found
    if ! found=$(bash -c "$command" 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+)+' | head -1) \
        || [ -z "$found" ]; then
        missing+=("$name >= $minimum is missing: $install")
        return
    fi
    if [ "$(printf '%s\n%s\n' "$minimum" "$found" | sort -V | head -1)" != "$minimum" ]; then
        missing+=("$name $found is older than $minimum: $install")
    fi
}

need "Python" "${PYTHON:-python3} --version" 3.11 "Python 3.11 (apt-get install python3 python3-venv)"
if "${PYTHON:-python3}" -c 'import sys; sys.exit(sys.version_info[:2] == (3, 11))' 2>/dev/null; then
    missing+=("Python 3.11 exactly (PyFlink 1.20 runs on 3.8-3.11): set PYTHON=python3.11")
fi
need "Java" "java -version 2>&1" 17 "a JDK 17 (apt-get install openjdk-17-jdk-headless)"
need "Maven" "mvn -v" 3.6 "Maven (apt-get install maven)"
need "Node.js" "node --version" 20 "Node.js 20 with npm (apt-get install nodejs npm)"
need "npm" "npm --version" 9 "npm (apt-get install npm)"
if [ "${1:-demo}" = test ]; then
    need "Terraform" "terraform version" 1.5 "Terraform >= 1.5 (infra/README.md, prerequisites)"
    need "Go" "go version" 1.26 "Go >= 1.26, which builds the Terraform AWS provider (infra/README.md, prerequisites)"
fi

if [ ${#missing[@]} -gt 0 ]; then
    printf 'make %s needs:\n' "${1:-demo}" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
fi
