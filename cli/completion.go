package cli

import (
	"io"
	"os"
)

// CompletionCmd is `procman completion bash|zsh|fish`.
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"The shell: bash, zsh or fish."`
}

// Run prints the completion script. The scripts are thin: they hand the
// words of the command line to `procman __complete`, which knows the
// commands, flags and task names.
func (c *CompletionCmd) Run() error {
	_, err := io.WriteString(os.Stdout, completionScripts[c.Shell])
	return err
}

// completionScripts are the scripts `procman completion` prints.
var completionScripts = map[string]string{
	"bash": bashCompletion,
	"zsh":  zshCompletion,
	"fish": fishCompletion,
}

const bashCompletion = `# bash completion for procman.
# Load it in this shell:  source <(procman completion bash)
# or for good:            procman completion bash > ~/.local/share/bash-completion/completions/procman
_procman() {
    local cur=${COMP_WORDS[COMP_CWORD]} line first=1
    COMPREPLY=()
    while IFS= read -r line; do
        if [[ $first == 1 && ( $line == :file || $line == :dir ) ]]; then
            local flag=-f
            [[ $line == :dir ]] && flag=-d
            compopt -o filenames 2>/dev/null
            while IFS= read -r line; do
                COMPREPLY+=("$line")
            done < <(compgen "$flag" -- "$cur")
            return 0
        fi
        first=0
        COMPREPLY+=("${line%%$'\t'*}")
    done < <("${COMP_WORDS[0]}" __complete -- "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
    return 0
}
complete -F _procman procman
`

const zshCompletion = `#compdef procman
# zsh completion for procman.
# Load it in this shell:  source <(procman completion zsh)
# or for good:            procman completion zsh > "${fpath[1]}/_procman"
_procman() {
    local -a lines items
    local line
    lines=("${(@f)$(${words[1]} __complete -- "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    case $lines[1] in
        :file) _files; return ;;
        :dir) _files -/; return ;;
    esac
    for line in $lines; do
        [[ -n $line ]] || continue
        if [[ $line == *$'\t'* ]]; then
            items+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}")
        else
            items+=("${line//:/\\:}")
        fi
    done
    _describe -t values procman items
}
if [[ $funcstack[1] == _procman ]]; then
    _procman "$@"
else
    compdef _procman procman
fi
`

const fishCompletion = `# fish completion for procman.
# Load it in this shell:  procman completion fish | source
# or for good:            procman completion fish > ~/.config/fish/completions/procman.fish
function __procman_complete
    set -l tokens (commandline -opc)
    set -l prog $tokens[1]
    set -e tokens[1]
    set -l cur (commandline -ct)
    set -l out (command $prog __complete -- $tokens "$cur" 2>/dev/null)
    switch "$out[1]"
        case :file
            __fish_complete_path "$cur"
        case :dir
            __fish_complete_directories "$cur"
        case '*'
            printf '%s\n' $out
    end
end
complete -c procman -f -a '(__procman_complete)'
`
