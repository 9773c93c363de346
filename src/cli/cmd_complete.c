/* SPDX-License-Identifier: MIT */
/*
 * hq generate-completion <bash|elvish|fish|powershell|zsh> (spec 1.11):
 * completion scripts generated from the one command table (main.c) and
 * each command's own option table, read through cli_parse() in describe
 * mode, so that a new command or option needs no change here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define COMP_SHELLS "bash|elvish|fish|powershell|zsh"

static const struct hq_opt complete_opts[] = {
	{ NULL, 0, 0, NULL, NULL },
};

struct comp_opt {
	char *name; /* "--all" or "-v" */
	const char *help;
	bool value;    /* takes a value */
	char **values; /* known values (NULL-terminated) or NULL */
};

/* One command path: "" (hq itself), "job", "job list". */
struct comp_node {
	char *path;
	bool leaf;
	char **subs; /* subcommand words */
	const char **sub_about;
	uint32_t nsubs;
	struct comp_opt *opts;
	uint32_t nopts;
	char **posvals; /* values of positionals, from "<a|b>" */
	uint32_t nposvals;
};

struct comp {
	struct comp_node *nodes;
	uint32_t n;
};

static const struct {
	const char *word, *about;
} comp_groups[] = {
	{ "server", "Commands for controlling the HyperQueue server" },
	{ "worker", "Commands for controlling HyperQueue workers" },
	{ "job", "Commands for working with jobs" },
	{ "task", "Commands for working with tasks" },
	{ "journal", "Commands for the journal" },
	{ "alloc", "Commands for automatic allocation" },
	{ "output-log", "Operations with log files of streamed outputs" },
};

/* Split the first 'len' bytes of s, "a|b|c", into words appended to the
 * NULL-terminated array *v (count in *n). */
static void
comp_split_values(const char *s, size_t len, char ***v, uint32_t *n)
{
	size_t i = 0, start = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '|')
			continue;
		if (i > start) {
			*v = hq_xreallocarray(*v, *n + 2, sizeof **v);
			(*v)[(*n)++] = hq_xstrndup(s + start, i - start);
			(*v)[*n] = NULL;
		}
		start = i + 1;
	}
}

static struct comp_node *
comp_node(struct comp *cp, const char *path)
{
	uint32_t i;

	for (i = 0; i < cp->n; i++)
		if (strcmp(cp->nodes[i].path, path) == 0)
			return &cp->nodes[i];
	cp->nodes = hq_xreallocarray(cp->nodes, cp->n + 1, sizeof *cp->nodes);
	memset(&cp->nodes[cp->n], 0, sizeof cp->nodes[cp->n]);
	cp->nodes[cp->n].path = hq_xstrdup(path);
	return &cp->nodes[cp->n++];
}

static void
comp_add_sub(struct comp_node *nd, const char *word, const char *about)
{
	uint32_t i;

	for (i = 0; i < nd->nsubs; i++)
		if (strcmp(nd->subs[i], word) == 0)
			return;
	nd->subs = hq_xreallocarray(nd->subs, nd->nsubs + 1, sizeof *nd->subs);
	nd->sub_about = hq_xreallocarray(nd->sub_about, nd->nsubs + 1,
	    sizeof *nd->sub_about);
	nd->subs[nd->nsubs] = hq_xstrdup(word);
	nd->sub_about[nd->nsubs++] = about;
}

static void
comp_add_opt(struct comp_node *nd, const struct hq_opt *o, bool is_short)
{
	struct comp_opt *co;
	const char *vn = o->value_name;

	nd->opts = hq_xreallocarray(nd->opts, nd->nopts + 1, sizeof *nd->opts);
	co = &nd->opts[nd->nopts++];
	memset(co, 0, sizeof *co);
	co->name = is_short ? hq_xprintf("-%c", o->short_name)
			    : hq_xprintf("--%s", o->name);
	co->help = o->help ? o->help : "";
	co->value = o->kind != HQ_OPT_FLAG;
	if (co->value && vn != NULL && strchr(vn, '|') != NULL) {
		uint32_t n = 0;

		comp_split_values(vn, strlen(vn), &co->values, &n);
	}
}

static void
comp_add_opts(struct comp_node *nd, const struct hq_opt *opts, uint32_t from,
    uint32_t to)
{
	uint32_t i;

	for (i = from; i < to; i++) {
		comp_add_opt(nd, &opts[i], false);
		if (opts[i].short_name != 0)
			comp_add_opt(nd, &opts[i], true);
	}
}

static void
comp_add_help(struct comp_node *nd, bool root)
{
	static const struct hq_opt help = { "help", 'h', HQ_OPT_FLAG, NULL,
		"Print help" };
	static const struct hq_opt version = { "version", 'V', HQ_OPT_FLAG,
		NULL, "Print version" };

	comp_add_opts(nd, &help, 0, 1);
	if (root)
		comp_add_opts(nd, &version, 0, 1);
}

/* Values offered for positionals: the '|' lists in "<a|b>" or "[a|b]". */
static void
comp_positional(struct comp_node *nd, const char *pos)
{
	const char *p = pos, *end;

	while (p != NULL && (p = strpbrk(p, "<[")) != NULL) {
		end = strpbrk(p + 1, ">]");
		if (end == NULL)
			break;
		if (memchr(p + 1, '|', (size_t)(end - p - 1)) != NULL)
			comp_split_values(p + 1, (size_t)(end - p - 1),
			    &nd->posvals, &nd->nposvals);
		p = end + 1;
	}
}

/* Run a command in describe mode: cli_parse() jumps back with its table. */
static bool
comp_describe(cli_cmd_fn *run, struct cli_describe *d)
{
	struct cli scratch;
	char *argv[1] = { NULL };

	memset(&scratch, 0, sizeof scratch);
	cli_describing = d;
	if (setjmp(d->jb) == 0) {
		run(&scratch, 0, argv);
		cli_describing = NULL;
		return false;
	}
	cli_describing = NULL;
	return true;
}

static const char *
comp_group_about(const char *word)
{
	size_t i;

	for (i = 0; i < HQ_ARRAY_LEN(comp_groups); i++)
		if (strcmp(comp_groups[i].word, word) == 0)
			return comp_groups[i].about;
	return "";
}

static void
comp_build(struct comp *cp)
{
	const struct hq_opt *globals = NULL;
	uint32_t nglobals = 0, i, k;
	struct cli_describe d;
	const char *path, *about;
	cli_cmd_fn *run;

	memset(cp, 0, sizeof *cp);
	comp_node(cp, "");
	for (i = 0; (path = cli_command_at(i, &run, &about)) != NULL; i++) {
		const char *sp = strchr(path, ' ');
		struct comp_node *nd;

		if (sp != NULL) {
			char *group = hq_xstrndup(path, (size_t)(sp - path));

			comp_add_sub(comp_node(cp, ""), group,
			    comp_group_about(group));
			comp_add_sub(comp_node(cp, group), sp + 1, about);
			free(group);
		} else {
			comp_add_sub(comp_node(cp, ""), path, about);
		}
		nd = comp_node(cp, path);
		nd->leaf = true;
		memset(&d, 0, sizeof d);
		if (!comp_describe(run, &d))
			continue;
		for (k = 0; d.opts[k].name != NULL; k++)
			;
		comp_add_opts(nd, d.opts, 0, d.nown);
		comp_add_opts(nd, d.opts, d.nown, k);
		comp_add_help(nd, false);
		comp_positional(nd, d.positional);
		if (globals == NULL) {
			/* The global options live in cli.c's static table:
			 * keep a copy of the tail of this one. */
			nglobals = k - d.nown;
			globals = hq_xmemdup(d.opts + d.nown,
			    (nglobals + 1) * sizeof *globals);
		}
	}
	for (i = 0; i < cp->n; i++)
		if (!cp->nodes[i].leaf) {
			if (globals != NULL)
				comp_add_opts(&cp->nodes[i], globals, 0,
				    nglobals);
			comp_add_help(&cp->nodes[i], cp->nodes[i].path[0] == 0);
		}
	free((void *)globals);
}

static void
comp_free(struct comp *cp)
{
	uint32_t i, k;

	for (i = 0; i < cp->n; i++) {
		struct comp_node *nd = &cp->nodes[i];

		free(nd->path);
		for (k = 0; k < nd->nsubs; k++)
			free(nd->subs[k]);
		free(nd->subs);
		free(nd->sub_about);
		for (k = 0; k < nd->nopts; k++) {
			free(nd->opts[k].name);
			hq_strv_free(nd->opts[k].values);
		}
		free(nd->opts);
		hq_strv_free(nd->posvals);
	}
	free(cp->nodes);
}

/* Global options with a value: the scripts skip the value word. */
static void
comp_global_value_opts(const struct comp *cp, FILE *f, const char *sep)
{
	const struct comp_node *root = &cp->nodes[0];
	bool first = true;
	uint32_t i;

	for (i = 0; i < root->nopts; i++)
		if (root->opts[i].value) {
			fprintf(f, "%s%s", first ? "" : sep,
			    root->opts[i].name);
			first = false;
		}
}

/* Write s inside single quotes for POSIX shells: ' becomes '\''. */
static void
comp_sq(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

/* Single-quoted for fish, elvish and PowerShell (' doubled or escaped). */
static void
comp_sq_esc(FILE *f, const char *s, const char *quote_esc)
{
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs(quote_esc, f);
		else if (*s == '\\' && strcmp(quote_esc, "\\'") == 0)
			fputs("\\\\", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

/* zsh _describe entry "name:help", ':' in the name escaped. */
static void
comp_zsh_entry(FILE *f, const char *name, const char *help)
{
	char *s = hq_xprintf("%s:%s", name, help);

	comp_sq(f, s);
	free(s);
}

/* ---- bash ---------------------------------------------------------------- */

static void
comp_bash(const struct comp *cp, FILE *f)
{
	uint32_t i, k;

	fprintf(f,
	    "# bash completion for hq (`hq generate-completion bash`)\n"
	    "_hq() {\n"
	    "    local cur prev w i node='' skip=0 words='' opts=''\n"
	    "    cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
	    "    prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
	    "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
	    "        w=\"${COMP_WORDS[i]}\"\n"
	    "        if ((skip)); then skip=0; continue; fi\n"
	    "        case \"$w\" in\n        ");
	comp_global_value_opts(cp, f, "|");
	fprintf(f,
	    ") skip=1; continue ;;\n"
	    "        -*) continue ;;\n"
	    "        esac\n"
	    "        case \"$node|$w\" in\n");
	for (i = 0; i < cp->n; i++)
		for (k = 0; k < cp->nodes[i].nsubs; k++)
			fprintf(f, "        '%s|%s') node='%s%s%s' ;;\n",
			    cp->nodes[i].path, cp->nodes[i].subs[k],
			    cp->nodes[i].path, cp->nodes[i].path[0] ? " " : "",
			    cp->nodes[i].subs[k]);
	fprintf(f,
	    "        esac\n"
	    "    done\n"
	    "    case \"$node|$prev\" in\n");
	for (i = 0; i < cp->n; i++)
		for (k = 0; k < cp->nodes[i].nopts; k++) {
			const struct comp_opt *o = &cp->nodes[i].opts[k];
			char **v;

			if (!o->value)
				continue;
			fprintf(f, "    '%s|%s')", cp->nodes[i].path, o->name);
			if (o->values != NULL) {
				fprintf(f, " COMPREPLY=($(compgen -W '");
				for (v = o->values; *v; v++)
					fprintf(f, "%s%s",
					    v == o->values ? "" : " ", *v);
				fprintf(f, "' -- \"$cur\"))");
			} else {
				fprintf(f, " COMPREPLY=()");
			}
			fprintf(f, "; return ;;\n");
		}
	fprintf(f,
	    "    esac\n"
	    "    case \"$node\" in\n");
	for (i = 0; i < cp->n; i++) {
		const struct comp_node *nd = &cp->nodes[i];

		fprintf(f, "    '%s')\n        words='", nd->path);
		for (k = 0; k < nd->nsubs; k++)
			fprintf(f, "%s%s", k ? " " : "", nd->subs[k]);
		for (k = 0; k < nd->nposvals; k++)
			fprintf(f, "%s%s", k || nd->nsubs ? " " : "",
			    nd->posvals[k]);
		fprintf(f, "'\n        opts='");
		for (k = 0; k < nd->nopts; k++)
			fprintf(f, "%s%s", k ? " " : "", nd->opts[k].name);
		fprintf(f, "' ;;\n");
	}
	fprintf(f,
	    "    esac\n"
	    "    if [[ \"$cur\" == -* ]]; then\n"
	    "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	    "    else\n"
	    "        COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
	    "    fi\n"
	    "}\n"
	    "complete -o default -F _hq hq\n");
}

/* ---- zsh ----------------------------------------------------------------- */

static void
comp_zsh(const struct comp *cp, FILE *f)
{
	uint32_t i, k;

	fprintf(f,
	    "#compdef hq\n"
	    "# zsh completion for hq (`hq generate-completion zsh`)\n"
	    "_hq() {\n"
	    "  local node='' w skip=0 i cur prev\n"
	    "  local -a subs opts\n"
	    "  for ((i = 2; i < CURRENT; i++)); do\n"
	    "    w=${words[i]}\n"
	    "    if (( skip )); then skip=0; continue; fi\n"
	    "    case $w in\n      ");
	comp_global_value_opts(cp, f, "|");
	fprintf(f,
	    ") skip=1; continue ;;\n"
	    "      -*) continue ;;\n"
	    "    esac\n"
	    "    case \"$node|$w\" in\n");
	for (i = 0; i < cp->n; i++)
		for (k = 0; k < cp->nodes[i].nsubs; k++)
			fprintf(f, "      '%s|%s') node='%s%s%s' ;;\n",
			    cp->nodes[i].path, cp->nodes[i].subs[k],
			    cp->nodes[i].path, cp->nodes[i].path[0] ? " " : "",
			    cp->nodes[i].subs[k]);
	fprintf(f,
	    "    esac\n"
	    "  done\n"
	    "  cur=${words[CURRENT]}\n"
	    "  prev=${words[CURRENT-1]}\n"
	    "  case \"$node|$prev\" in\n");
	for (i = 0; i < cp->n; i++)
		for (k = 0; k < cp->nodes[i].nopts; k++) {
			const struct comp_opt *o = &cp->nodes[i].opts[k];
			char **v;

			if (!o->value)
				continue;
			fprintf(f, "    '%s|%s')", cp->nodes[i].path, o->name);
			if (o->values != NULL) {
				fprintf(f, " compadd --");
				for (v = o->values; *v; v++)
					fprintf(f, " %s", *v);
			} else {
				fprintf(f, " _files");
			}
			fprintf(f, "; return ;;\n");
		}
	fprintf(f,
	    "  esac\n"
	    "  case $node in\n");
	for (i = 0; i < cp->n; i++) {
		const struct comp_node *nd = &cp->nodes[i];

		fprintf(f, "    '%s')\n      subs=(", nd->path);
		for (k = 0; k < nd->nsubs; k++) {
			if (k)
				fputc(' ', f);
			comp_zsh_entry(f, nd->subs[k], nd->sub_about[k]);
		}
		for (k = 0; k < nd->nposvals; k++)
			fprintf(f, " %s", nd->posvals[k]);
		fprintf(f, ")\n      opts=(");
		for (k = 0; k < nd->nopts; k++) {
			if (k)
				fputc(' ', f);
			comp_zsh_entry(f, nd->opts[k].name, nd->opts[k].help);
		}
		fprintf(f, ") ;;\n");
	}
	fprintf(f,
	    "  esac\n"
	    "  if [[ $cur == -* ]]; then\n"
	    "    _describe -t options 'option' opts\n"
	    "  elif (( ${#subs} )); then\n"
	    "    _describe -t commands 'command' subs\n"
	    "  else\n"
	    "    _files\n"
	    "  fi\n"
	    "}\n"
	    "if [ \"$funcstack[1]\" = \"_hq\" ]; then\n"
	    "  _hq \"$@\"\n"
	    "else\n"
	    "  compdef _hq hq\n"
	    "fi\n");
}

/* ---- fish ---------------------------------------------------------------- */

static void
comp_fish(const struct comp *cp, FILE *f)
{
	uint32_t i, k;

	fprintf(f,
	    "# fish completion for hq (`hq generate-completion fish`)\n"
	    "function __hq_node\n"
	    "    set -l node ''\n"
	    "    set -l skip 0\n"
	    "    for w in (commandline -opc)[2..-1]\n"
	    "        if test $skip = 1\n"
	    "            set skip 0\n"
	    "            continue\n"
	    "        end\n"
	    "        switch $w\n"
	    "            case ");
	comp_global_value_opts(cp, f, " ");
	fprintf(f,
	    "\n                set skip 1\n"
	    "                continue\n"
	    "            case '-*'\n"
	    "                continue\n"
	    "        end\n"
	    "        switch \"$node|$w\"\n");
	for (i = 0; i < cp->n; i++)
		for (k = 0; k < cp->nodes[i].nsubs; k++)
			fprintf(f,
			    "            case '%s|%s'\n"
			    "                set node '%s%s%s'\n",
			    cp->nodes[i].path, cp->nodes[i].subs[k],
			    cp->nodes[i].path, cp->nodes[i].path[0] ? " " : "",
			    cp->nodes[i].subs[k]);
	fprintf(f,
	    "        end\n"
	    "    end\n"
	    "    echo $node\n"
	    "end\n"
	    "function __hq_at\n"
	    "    set -l node (__hq_node)\n"
	    "    test \"$node\" = \"$argv[1]\"\n"
	    "end\n"
	    "complete -c hq -f\n");
	for (i = 0; i < cp->n; i++) {
		const struct comp_node *nd = &cp->nodes[i];

		for (k = 0; k < nd->nsubs; k++) {
			fprintf(f,
			    "complete -c hq -n '__hq_at \"%s\"' -a %s -d ",
			    nd->path, nd->subs[k]);
			comp_sq_esc(f, nd->sub_about[k], "\\'");
			fputc('\n', f);
		}
		if (nd->leaf && nd->nposvals > 0) {
			fprintf(f, "complete -c hq -n '__hq_at \"%s\"' -a '",
			    nd->path);
			for (k = 0; k < nd->nposvals; k++)
				fprintf(f, "%s%s", k ? " " : "",
				    nd->posvals[k]);
			fprintf(f, "'\n");
		} else if (nd->leaf) {
			fprintf(f, "complete -c hq -n '__hq_at \"%s\"' -F\n",
			    nd->path);
		}
		for (k = 0; k < nd->nopts; k++) {
			const struct comp_opt *o = &nd->opts[k];
			char **v;

			fprintf(f, "complete -c hq -n '__hq_at \"%s\"' %s %s",
			    nd->path, o->name[1] == '-' ? "-l" : "-s",
			    o->name + (o->name[1] == '-' ? 2 : 1));
			if (o->values != NULL) {
				fprintf(f, " -x -a '");
				for (v = o->values; *v; v++)
					fprintf(f, "%s%s",
					    v == o->values ? "" : " ", *v);
				fputc('\'', f);
			} else if (o->value) {
				fprintf(f, " -r -F");
			}
			fprintf(f, " -d ");
			comp_sq_esc(f, o->help, "\\'");
			fputc('\n', f);
		}
	}
}

/* ---- elvish -------------------------------------------------------------- */

static void
comp_elvish(const struct comp *cp, FILE *f)
{
	uint32_t i, k;

	fprintf(f,
	    "# elvish completion for hq (`hq generate-completion "
	    "elvish`)\n"
	    "use str\n"
	    "var hq-next = [");
	for (i = 0; i < cp->n; i++)
		for (k = 0; k < cp->nodes[i].nsubs; k++)
			fprintf(f, "\n  &'%s|%s'='%s%s%s'", cp->nodes[i].path,
			    cp->nodes[i].subs[k], cp->nodes[i].path,
			    cp->nodes[i].path[0] ? " " : "",
			    cp->nodes[i].subs[k]);
	fprintf(f, "\n]\nvar hq-words = [");
	for (i = 0; i < cp->n; i++) {
		const struct comp_node *nd = &cp->nodes[i];

		fprintf(f, "\n  &'%s'=[", nd->path);
		for (k = 0; k < nd->nsubs; k++)
			fprintf(f, "%s%s", k ? " " : "", nd->subs[k]);
		for (k = 0; k < nd->nposvals; k++)
			fprintf(f, "%s%s", k || nd->nsubs ? " " : "",
			    nd->posvals[k]);
		fprintf(f, "]");
	}
	fprintf(f, "\n]\nvar hq-opts = [");
	for (i = 0; i < cp->n; i++) {
		const struct comp_node *nd = &cp->nodes[i];

		fprintf(f, "\n  &'%s'=[", nd->path);
		for (k = 0; k < nd->nopts; k++)
			fprintf(f, "%s%s", k ? " " : "", nd->opts[k].name);
		fprintf(f, "]");
	}
	fprintf(f, "\n]\nvar hq-values = [");
	for (i = 0; i < cp->n; i++)
		for (k = 0; k < cp->nodes[i].nopts; k++) {
			const struct comp_opt *o = &cp->nodes[i].opts[k];
			char **v;

			if (!o->value)
				continue;
			fprintf(f, "\n  &'%s|%s'=[", cp->nodes[i].path,
			    o->name);
			for (v = o->values; v != NULL && *v; v++)
				fprintf(f, "%s%s", v == o->values ? "" : " ",
				    *v);
			fprintf(f, "]");
		}
	fprintf(f,
	    "\n]\n"
	    "set edit:completion:arg-completer[hq] = {|@words|\n"
	    "  var node = ''\n"
	    "  var skip = $false\n"
	    "  var n = (count $words)\n"
	    "  for i [(range 1 (- $n 1))] {\n"
	    "    var w = $words[$i]\n"
	    "    if $skip { set skip = $false; continue }\n"
	    "    if (has-value [");
	comp_global_value_opts(cp, f, " ");
	fprintf(f,
	    "] $w) { set skip = $true; continue }\n"
	    "    if (str:has-prefix $w -) { continue }\n"
	    "    if (has-key $hq-next $node'|'$w) {\n"
	    "      set node = $hq-next[$node'|'$w]\n"
	    "    }\n"
	    "  }\n"
	    "  var cur = $words[(- $n 1)]\n"
	    "  var prev = $words[(- $n 2)]\n"
	    "  if (has-key $hq-values $node'|'$prev) {\n"
	    "    all $hq-values[$node'|'$prev]\n"
	    "  } elif (str:has-prefix $cur -) {\n"
	    "    all $hq-opts[$node]\n"
	    "  } else {\n"
	    "    all $hq-words[$node]\n"
	    "  }\n"
	    "}\n");
}

/* ---- PowerShell -------------------------------------------------------- */

static void
comp_pwsh(const struct comp *cp, FILE *f)
{
	uint32_t i, k;

	fprintf(f,
	    "# PowerShell completion for hq (`hq generate-completion "
	    "powershell`)\n"
	    "$hqNext = @{");
	for (i = 0; i < cp->n; i++)
		for (k = 0; k < cp->nodes[i].nsubs; k++)
			fprintf(f, "\n  '%s|%s' = '%s%s%s'", cp->nodes[i].path,
			    cp->nodes[i].subs[k], cp->nodes[i].path,
			    cp->nodes[i].path[0] ? " " : "",
			    cp->nodes[i].subs[k]);
	fprintf(f, "\n}\n$hqWords = @{");
	for (i = 0; i < cp->n; i++) {
		const struct comp_node *nd = &cp->nodes[i];

		fprintf(f, "\n  '%s' = @(", nd->path);
		for (k = 0; k < nd->nsubs; k++)
			fprintf(f, "%s'%s'", k ? ", " : "", nd->subs[k]);
		for (k = 0; k < nd->nposvals; k++)
			fprintf(f, "%s'%s'", k || nd->nsubs ? ", " : "",
			    nd->posvals[k]);
		fprintf(f, ")");
	}
	fprintf(f, "\n}\n$hqOpts = @{");
	for (i = 0; i < cp->n; i++) {
		const struct comp_node *nd = &cp->nodes[i];

		fprintf(f, "\n  '%s' = @(", nd->path);
		for (k = 0; k < nd->nopts; k++)
			fprintf(f, "%s'%s'", k ? ", " : "", nd->opts[k].name);
		fprintf(f, ")");
	}
	fprintf(f, "\n}\n$hqValues = @{");
	for (i = 0; i < cp->n; i++)
		for (k = 0; k < cp->nodes[i].nopts; k++) {
			const struct comp_opt *o = &cp->nodes[i].opts[k];
			char **v;

			if (!o->value)
				continue;
			fprintf(f, "\n  '%s|%s' = @(", cp->nodes[i].path,
			    o->name);
			for (v = o->values; v != NULL && *v; v++)
				fprintf(f, "%s'%s'", v == o->values ? "" : ", ",
				    *v);
			fprintf(f, ")");
		}
	fprintf(f,
	    "\n}\n"
	    "Register-ArgumentCompleter -Native -CommandName hq "
	    "-ScriptBlock {\n"
	    "  param($wordToComplete, $commandAst, $cursorPosition)\n"
	    "  $words = @($commandAst.CommandElements | "
	    "ForEach-Object { $_.ToString() })\n"
	    "  if ($wordToComplete -eq '') { $words += '' }\n"
	    "  $node = ''\n"
	    "  $skip = $false\n"
	    "  for ($i = 1; $i -lt $words.Count - 1; $i++) {\n"
	    "    $w = $words[$i]\n"
	    "    if ($skip) { $skip = $false; continue }\n"
	    "    if (@(");
	{
		const struct comp_node *root = &cp->nodes[0];
		bool first = true;

		for (k = 0; k < root->nopts; k++)
			if (root->opts[k].value) {
				fprintf(f, "%s'%s'", first ? "" : ", ",
				    root->opts[k].name);
				first = false;
			}
	}
	fprintf(f,
	    ") -contains $w) { $skip = $true; continue }\n"
	    "    if ($w.StartsWith('-')) { continue }\n"
	    "    $key = \"$node|$w\"\n"
	    "    if ($hqNext.ContainsKey($key)) { $node = $hqNext[$key] }\n"
	    "  }\n"
	    "  $prev = if ($words.Count -ge 2) { $words[$words.Count - 2] "
	    "} else { '' }\n"
	    "  $key = \"$node|$prev\"\n"
	    "  if ($hqValues.ContainsKey($key)) {\n"
	    "    $cands = $hqValues[$key]\n"
	    "  } elseif ($wordToComplete.StartsWith('-')) {\n"
	    "    $cands = $hqOpts[$node]\n"
	    "  } else {\n"
	    "    $cands = $hqWords[$node]\n"
	    "  }\n"
	    "  $cands | Where-Object { $_ -like \"$wordToComplete*\" } | "
	    "ForEach-Object {\n"
	    "    [System.Management.Automation.CompletionResult]::new("
	    "$_, $_, 'ParameterValue', $_)\n"
	    "  }\n"
	    "}\n");
}

int
cmd_generate_completion(struct cli *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*gen)(const struct comp *cp, FILE *f);
	} shells[] = {
		{ "bash", comp_bash },
		{ "elvish", comp_elvish },
		{ "fish", comp_fish },
		{ "powershell", comp_pwsh },
		{ "zsh", comp_zsh },
	};
	struct hq_args a;
	struct comp cp;
	size_t i;

	cli_parse(c, &a, complete_opts, argc, argv, 1, false,
	    "<" COMP_SHELLS ">", "Generate a shell completion script");
	if (a.npos < 1)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <SHELL>\n\nFor more information, try "
		    "'--help'.");
	for (i = 0; i < HQ_ARRAY_LEN(shells); i++)
		if (strcmp(shells[i].name, a.pos[0]) == 0)
			break;
	if (i == HQ_ARRAY_LEN(shells))
		cli_fail(c,
		    "error: invalid value '%s' for '<SHELL>'\n  [possible "
		    "values: bash, elvish, fish, powershell, zsh]\n\nFor more "
		    "information, try '--help'.",
		    a.pos[0]);
	fprintf(stderr, "Generating completion file for %s...\n", a.pos[0]);
	comp_build(&cp);
	shells[i].gen(&cp, stdout);
	fflush(stdout);
	comp_free(&cp);
	/* A script, not JSON: nothing more to print in JSON mode. */
	c->printed = true;
	hq_args_fini(&a);
	return 0;
}
