"""The deal workflow as it ran before the Step 9 reshape, frozen.

It stays registered under its old type name `DealWorkflow`, so deals started on it finish on
it (Temporal routes a workflow's tasks by its type); new deals start as `DealWorkflowV2`
(workflows/deal/). Delete this package once no `DealWorkflow` execution is open:
`temporal workflow count -q 'WorkflowType="DealWorkflow" AND ExecutionStatus="Running"'`.
"""
