#!/usr/bin/env bash
# Makes Tesseract OCR with German and English available for the media tests
# (cradle-media reads text from images through the `tesseract` program).
# Installs Debian's packages when run as root and they are missing; prints
# what to install and exits 1 when it cannot.
set -euo pipefail
packages=(tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng)
have_languages() {
  local langs
  langs=$(tesseract --list-langs 2>/dev/null) || return 1
  grep -qx deu <<<"$langs" && grep -qx eng <<<"$langs"
}
if command -v tesseract >/dev/null 2>&1 && have_languages; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${packages[*]} (Debian packages) for the OCR tests" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}") >&2 || exit 1
  have_languages && exit 0
fi
echo "tesseract with deu and eng is missing; install it with: apt-get install ${packages[*]}" >&2
exit 1
