using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>On import: lets Core run barrier actions, which are PowerShell script text.</summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        public void OnImport() =>
            IpcBarrier.ActionCompiler = text =>
            {
                var script = ScriptBlock.Create(text);
                return () => script.Invoke();
            };
    }
}
