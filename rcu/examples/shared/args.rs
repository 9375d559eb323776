//! Command-line options in `--name value` or `--name=value` form, shared by the examples.

/// The arguments of a command line, read one option at a time.
pub struct OptionArgs<I> {
    args: I,
}

impl<I: Iterator<Item = String>> OptionArgs<I> {
    /// Wraps `args`, which exclude the program name.
    pub fn new(args: I) -> Self {
        OptionArgs { args }
    }

    /// Returns the next option's name and, for `--name=value`, its inline value.
    pub fn next_option(&mut self) -> Option<(String, Option<String>)> {
        let arg = self.args.next()?;
        Some(match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        })
    }

    /// Returns the value of option `name`: its inline value, or else the next argument.
    pub fn value(&mut self, name: &str, inline: &Option<String>) -> Result<String, String> {
        inline
            .clone()
            .or_else(|| self.args.next())
            .ok_or_else(|| format!("missing value for {name}"))
    }
}
