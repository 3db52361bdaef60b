# bash completion for powercut, faultfs and sofadb (installed by `cmake --install` into
# share/bash-completion/completions/). Options are read from each command's own --help,
# so they stay what the binary accepts; targets from `powercut targets`.

_powercut_opts() { # the --options a help text names
  "$@" --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u
}

_powercut_list() { # complete the last item of a comma-separated list: WORDS CUR
  local pre=""
  [[ $2 == *,* ]] && pre=${2%,*},
  COMPREPLY=($(compgen -P "$pre" -W "$1" -- "${2##*,}"))
}

_powercut() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd=${COMP_WORDS[1]:-}
  local prog=${COMP_WORDS[0]}
  local cmds="run trace campaign repro minimize fidelity report bench bench-recovery targets help"
  if ((COMP_CWORD == 1)); then
    COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
    return
  fi
  case $prev in
    --target|--targets)
      COMPREPLY=($(compgen -W "$("$prog" targets 2>/dev/null | awk '/^[a-z]/ {print $1}') exec:cmd=" -- "$cur"))
      return ;;
    --faults)
      _powercut_list "kill kill-after crash crash-after torn eio enospc edquot short flip" "$cur"
      return ;;
    --fault) # a plan: ACTION@OP...
      COMPREPLY=($(compgen -W "none kill@ kill-after@ crash@ crash-after@ torn@ eio@ enospc@ edquot@ short@ flip@" -- "$cur"))
      compopt -o nospace 2>/dev/null
      return ;;
    --model|--models)
      _powercut_list "strict ext4 reorder" "$cur"
      return ;;
    --fs|--reach)
      _powercut_list "ext4 xfs none" "$cur"
      return ;;
    --workload)
      COMPREPLY=($(compgen -W "mixed fill overwrite batch bank large churn reopen sizes" -- "$cur"))
      return ;;
    --backend)
      COMPREPLY=($(compgen -W "preload seccomp auto" -- "$cur"))
      return ;;
    --out|--keep|--dir)
      COMPREPLY=($(compgen -d -- "$cur"))
      return ;;
  esac
  if [[ $cmd == help ]]; then
    COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
  elif [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_powercut_opts "$prog" "$cmd")" -- "$cur"))
  elif [[ $cmd == report || $cmd == fidelity ]]; then
    COMPREPLY=($(compgen -d -- "$cur"))
  fi
}

_faultfs() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  if ((COMP_CWORD == 1)); then
    COMPREPLY=($(compgen -W "run trace rollback bench help --help --version" -- "$cur"))
    return
  fi
  case $prev in
    --model) COMPREPLY=($(compgen -W "strict ext4 reorder" -- "$cur")); return ;;
    --backend) COMPREPLY=($(compgen -W "preload seccomp auto" -- "$cur")); return ;;
    --dir|--state) COMPREPLY=($(compgen -d -- "$cur")); return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_powercut_opts "${COMP_WORDS[0]}" "${COMP_WORDS[1]}")" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}

_sofadb() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  if ((COMP_CWORD == 1)); then
    COMPREPLY=($(compgen -d -- "$cur") $(compgen -W "help --help --version" -- "$cur"))
  elif ((COMP_CWORD == 2)); then
    COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" --help 2>/dev/null | awk '/^commands:/ {c=1; next} c && /^  [a-z]/ {print $1}')" -- "$cur"))
  fi
}

complete -F _powercut powercut
complete -F _faultfs faultfs
complete -F _sofadb sofadb
