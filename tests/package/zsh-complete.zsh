#!/usr/bin/env zsh
# zsh-complete.zsh DIR WORD...: the matches zsh's own completion system
# offers for the command line "WORD..." (the last word is the one being
# completed; "" for a new word), with _natcheck taken from DIR, one per line.
#
# Completion only runs inside the line editor, so this drives a real
# interactive zsh through a pseudo-terminal (zsh/zpty) and types the line
# and a TAB. In there, compadd is wrapped to write down each match it
# adds, and a function in comppostfuncs marks the end of the completion.
emulate -L zsh
zmodload zsh/zpty || exit 1
dir=${1:A}
shift
tmp=$(mktemp -d) || exit 1
trap 'zpty -d comp 2>/dev/null; rm -rf -- $tmp' EXIT

zpty comp zsh -f -i || exit 1
zpty -w comp "PS1= PROMPT_EOL_MARK=; unsetopt beep; fpath=(${(q)dir} \$fpath)"
zpty -w comp "autoload -Uz compinit && compinit -u -D"
zpty -w comp "zstyle ':completion:*' list-prompt ''"
# Calls that only collect into arrays (-O, -A, -D) add nothing: pass them.
zpty -w comp 'compadd() {
  if [[ ${${@[1,(i)--]}[(I)-[OAD]*]} -ne 0 ]]; then builtin compadd "$@"; return; fi
  local -a m; builtin compadd -O m "$@"; (( $#m )) && print -rl -- $m >>'${(q)tmp}'/matches
  builtin compadd "$@"
}'
zpty -w comp "_natcheck_test_done() { : >${(q)tmp}/done; }"
zpty -w comp "comppostfuncs=(_natcheck_test_done)"
zpty -w -n comp "${(j: :)@}"$'\t'

# Drain the terminal while waiting, 10 s at most.
for i in {1..100}; do
  [[ -e $tmp/done ]] && break
  zpty -r -t comp junk 2>/dev/null
  sleep 0.1
done
[[ -e $tmp/done ]] || { print -u2 "zsh-complete: the completion did not finish"; exit 1; }
[[ -e $tmp/matches ]] && sort -u $tmp/matches
exit 0
