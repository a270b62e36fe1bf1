/** A bench tool's `--name=value` argument (the whole value after the first `=`), or `fallback`. */
export const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
