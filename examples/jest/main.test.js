// main.test.js
const { ipcRenderer } = require('electron') // resolves to ipc-main
require('./main')

test('sum', async () => {
  await expect(ipcRenderer.invoke('sum', 2, 3)).resolves.toBe(5)
})

test('an invoke nobody handles', async () => {
  // Electron's main process logs it, and the renderer's promise rejects
  const logged = jest.spyOn(console, 'error').mockImplementation(() => {})
  await expect(ipcRenderer.invoke('nope')).rejects.toThrow(
    "Error invoking remote method 'nope': Error: No handler registered for 'nope'",
  )
  expect(logged).toHaveBeenCalledWith("Error occurred in handler for 'nope':", expect.any(Error))
  logged.mockRestore()
})

test('log replies', async () => {
  const replied = new Promise(resolve => ipcRenderer.once('logged', (event, n) => resolve(n)))
  ipcRenderer.send('log', 'hello')
  expect(await replied).toBe(5)
})
