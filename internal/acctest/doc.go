// Package acctest is the test kit of the provider's tests: what more than
// one test needs to drive the provider against the in-process emulator.
//
//   - StartEmulator and ProviderBlock start an emulator for a test and point
//     a provider block at it.
//   - UnitTest and ParallelUnitTest run a terraform-plugin-testing case
//     against the CLI that CLI names, with no TF_ACC: every test runs
//     against the emulator and needs no tenant. A missing CLI fails the test.
//   - CLIConfig, Command, Workspace and Start run that CLI by hand (signals,
//     log files, plan files) with the provider built from this module;
//     Interrupt sends SIGINT to a run.
//   - SkipBelowCLI gates a test on the CLI's version.
//   - ProtocolHarness calls a provider server with tfprotov6 requests as
//     Terraform would, with no CLI, for features the oldest CLI tested
//     cannot drive (identity, actions, list resources).
//   - EmulatorCheck, RequestCounter, StateExcludes and PlanExcludes are state
//     and plan checks; EmulatorProxy lets a test see or change what passes
//     between the provider and the emulator.
//
// It is imported by tests only, and never imports internal/provider (whose
// tests are in that package): callers pass provider servers in.
package acctest
