use std::process::ExitCode;

fn main() -> ExitCode {
    doctor::app::main()
}
