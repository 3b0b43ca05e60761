# bash completion for natcheck(1)                          -*- shell-script -*-
# shellcheck shell=bash
#
# Installed as share/bash-completion/completions/natcheck, where
# bash-completion loads it the first time natcheck is completed.

# Every option, one line each: its names, then what follows it.
#   -          nothing: a flag (or an optional argument attached with =)
#   ADDRESS    a local address (completed from this host's interfaces)
#   ADDRESSES  local addresses, comma-separated
#   FILE       a file name (--pair: two of them)
#   USER       a user name
#   a|b|c      one of these words
#   TYPES      NAT type words, a comma-separated list of them
#   other      a number or name natcheck cannot guess: nothing is offered
# tests/package/run.sh checks this list against `natcheck --help`.
_natcheck_options='
-4 --ipv4                   -
-6 --ipv6                   -
-b --bind                   ADDRESS
-q --quiet                  -
-t --timeout                SECONDS
-v --verbose                -
-p --port                   PORT
--json                      -
--format                    text|json|prometheus|nagios
--watch                     SECONDS
--count                     N
--metrics-file              FILE
--expect                    TYPES
--lifetime                  -
--pair                      FILE
--no-portmap                -
--no-tcp                    -
--rfc3489-timing            -
--tcp                       -
--serve                     ADDRESSES
--servers                   FILE
--alt-port                  PORT
--advertise                 PUBLIC
--rate                      N
--user                      USER
-h --help                   -
--version                   -
'

_natcheck()
{
    local cur prev words cword split
    _init_completion -s -n : || return

    local -a f
    local line kind="" all="" i
    while read -r line; do
        [[ -n $line ]] || continue
        read -r -a f <<<"$line"
        all+=" ${f[*]:0:${#f[@]}-1}"
        for ((i = 0; i < ${#f[@]} - 1; i++)); do
            [[ ${f[i]} == "$prev" ]] && kind=${f[-1]}
        done
    done <<<"$_natcheck_options"

    # --pair takes two files: the second follows the first (--pair A, or
    # --pair=A, one word here).
    if [[ $prev == --pair=?* ]] ||
        [[ $prev != -* && $cword -ge 2 && ${words[cword-2]} == --pair ]]; then
        _filedir
        return
    fi

    # The word before the cursor is an option that takes an argument.
    if [[ -n $kind && $kind != - ]]; then
        case $kind in
            ADDRESS)
                _ip_addresses -a
                ;;
            ADDRESSES)
                local head=""
                if [[ $cur == *,* ]]; then
                    head=${cur%,*},
                    cur=${cur##*,}
                fi
                _ip_addresses -a
                # The alternate address is another one than the primary.
                [[ -n $head ]] && mapfile -t COMPREPLY < <(printf '%s\n' \
                    "${COMPREPLY[@]}" | grep -vxF -- "${head%,}")
                COMPREPLY=("${COMPREPLY[@]/#/$head}")
                cur=$head$cur
                ;;
            FILE)
                _filedir
                ;;
            USER)
                mapfile -t COMPREPLY < <(compgen -u -- "$cur")
                ;;
            TYPES)
                # The type words again after each comma.
                local head=""
                if [[ $cur == *,* ]]; then
                    head=${cur%,*},
                    cur=${cur##*,}
                fi
                mapfile -t COMPREPLY < <(compgen -W "open full-cone restricted-cone \
                    port-restricted-cone symmetric symmetric-udp-firewall udp-blocked" -- "$cur")
                COMPREPLY=("${COMPREPLY[@]/#/$head}")
                cur=$head$cur
                ;;
            *'|'*)
                mapfile -t COMPREPLY < <(compgen -W "${kind//|/ }" -- "$cur")
                ;;
        esac
        __ltrim_colon_completions "$cur"
        return
    fi
    [[ $split == true ]] && return

    # Options until a "--"; after it, and for any other word, servers.
    local only_operands=""
    for ((i = 1; i < cword; i++)); do
        [[ ${words[i]} == -- ]] && only_operands=1
    done
    if [[ -z $only_operands && $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$all" -- "$cur")
        return
    fi
    _known_hosts_real -- "$cur"
    __ltrim_colon_completions "$cur"
} &&
    complete -F _natcheck natcheck

# ex: filetype=sh
